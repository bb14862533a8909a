/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_proc.h - hvx-run (or another tool) as a child process of a test,
 * its stdout and stderr collected in memfds.
 */
#ifndef HVX_SELFTEST_PROC_H
#define HVX_SELFTEST_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc {
	pid_t pid;
	bool reaped;		/* waited for already: status is set */
	int out_fd, err_fd;
	int status;		/* exit status, 128 + signal, -1 timed out */
	char *out, *err;	/* malloc()ed by proc_finish() */
	int err_lines;
};

const char *hvx_run_path(void);
bool proc_start(struct proc *p, const char *path, char *const args[],
		const char *cwd);
char *proc_read(int fd);
int proc_count_lines(int fd);
void proc_finish(struct proc *p, int limit_s);
void proc_release(struct proc *p);

#endif /* HVX_SELFTEST_PROC_H */
