// SPDX-License-Identifier: GPL-2.0
/* msg.c - one-line messages of hvx's userspace tools; see msg.h. */
#include <stdio.h>
#include <stdlib.h>

#include "msg.h"

void (*die_hook)(void);

void vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	/* hvx-run's tty may be in raw mode with OPOST: \n is enough. */
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	if (die_hook)
		die_hook();
	fflush(stdout);
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try '%s --help')\n", prog);
	exit(2);
}
