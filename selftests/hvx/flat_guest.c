// SPDX-License-Identifier: GPL-2.0
/*
 * flat_guest.c - the host's side of the flat counter guest
 * (snapshot_blobs.S, snapshot_guest.h) that snapshot_test and xhost_test
 * run under hvx-run: a copy with its parameters patched in, the check of
 * what it printed, and the CRC of hvx-run's snapshot records.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot_guest.h"

/*
 * Write the guest to @path with its parameters (snapshot_guest.h): count
 * to @limit, rewrite @dirty pages per step, each step at least @pace TSC
 * ticks. Return: false if the file could not be written.
 */
bool flat_guest_write(const char *path, uint32_t limit, uint32_t dirty,
		      uint32_t pace)
{
	size_t len = snap_guest_end - snap_guest_start;
	uint32_t v[3] = { limit, dirty, pace };
	uint8_t *g = malloc(len);
	bool ok;
	int fd;

	if (!g)
		return false;
	memcpy(g, snap_guest_start, len);
	memcpy(g + SNAP_OFF_LIMIT, v, sizeof(v));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok = fd >= 0 && write(fd, g, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	free(g);
	return ok;
}

/*
 * The flat guest's output @out: counter lines from 0 one by one, then
 * maybe "DONE", never "BAD" (*@bad says if it came). The first line that
 * breaks the rule is described in @why. Returns the last value, -1 for
 * none, -2 if broken.
 */
long check_counter(const char *out, bool *done, bool *bad, char *why,
		   size_t len)
{
	long last = -1;
	int line = 0;

	*done = *bad = false;
	for (const char *s = out; *s; line++) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char *end;
		long v;

		if (n == 4 && !strncmp(s, "DONE", 4)) {
			*done = true;
		} else if (n == 3 && !strncmp(s, "BAD", 3)) {
			*bad = true;
		} else {
			v = strtol(s, &end, 10);
			if (!n || end != s + n || v != last + 1 || *done) {
				snprintf(why, len, "line %d is '%.*s' after %ld", line,
					 (int)(n > 40 ? 40 : n), s, last);
				return -2;
			}
			last = v;
		}
		s += n + (nl ? 1 : 0);
	}
	return last;
}

/* CRC-32 of IEEE 802.3, as hvx-run's snapshot records carry it. */
uint32_t crc32_ieee(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t c = ~0u;

	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return ~c;
}
