/* SPDX-License-Identifier: GPL-2.0 */
/*
 * msg.h - the one-line messages of hvx's userspace tools (msg.c):
 * "<prog>: <message>" on stderr, and the exit codes every tool uses
 * (1: failure, 2: bad command line).
 */
#ifndef HVX_USERSPACE_MSG_H
#define HVX_USERSPACE_MSG_H

#include <stdarg.h>

/* The tool's name, defined by each tool. */
extern const char *prog;
/* Called by die() before its message, if set (hvx-run: restore the tty). */
extern void (*die_hook)(void);

/* Prints "<prog>: <fmt ...>\n" on stderr. */
void vmsg(const char *fmt, va_list ap);
/* Flushes stdout, prints the message and exits with status 1. */
void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...);
/* Prints the message and "(try '<prog> --help')", exits with status 2. */
void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...);

#endif
