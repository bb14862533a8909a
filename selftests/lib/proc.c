// SPDX-License-Identifier: GPL-2.0
/*
 * proc.c - a tool run by a test (hvx_proc.h): hvx-run, hvxctl.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvx_proc.h"
#include "hvx_util.h"

/* $HVX_RUN, else where check.sh installs hvx-run. */
const char *hvx_run_path(void)
{
	const char *p = getenv("HVX_RUN");

	return p && *p ? p : "/usr/bin/hvx-run";
}

/*
 * Start @path with @args (NULL-terminated, without argv[0]) in @cwd (NULL:
 * this one); stdin is /dev/null, stdout and stderr go to memfds.
 */
bool proc_start(struct proc *p, const char *path, char *const args[],
		const char *cwd)
{
	char *argv[32];
	int n = 0, in;

	memset(p, 0, sizeof(*p));
	argv[n++] = (char *)path;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	p->out_fd = memfd_create("proc-out", 0);
	p->err_fd = memfd_create("proc-err", 0);
	in = open("/dev/null", O_RDONLY);
	if (p->out_fd < 0 || p->err_fd < 0 || in < 0)
		return false;
	p->pid = fork();
	if (p->pid == 0) {
		dup2(in, 0);
		dup2(p->out_fd, 1);
		dup2(p->err_fd, 2);
		if (cwd && chdir(cwd))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in);
	return p->pid > 0;
}

/* What the memfd @fd holds so far, NUL-terminated (malloc()ed), or NULL. */
char *proc_read(int fd)
{
	struct stat st;
	char *buf;
	ssize_t n;

	if (fstat(fd, &st))
		return NULL;
	buf = calloc(1, st.st_size + 1);
	n = buf ? pread(fd, buf, st.st_size, 0) : -1;
	if (buf && n >= 0)
		buf[n] = 0;
	return buf;
}

int proc_count_lines(int fd)
{
	char *s = proc_read(fd);
	int n = 0;

	for (char *c = s; c && *c; c++)
		n += *c == '\n';
	free(s);
	return n;
}

/*
 * Wait for it to end (at most @limit_s, then SIGKILL and status -1),
 * collect its output and count stderr's lines.
 */
void proc_finish(struct proc *p, int limit_s)
{
	pid_t r = 0;
	int st = 0;

	p->status = p->reaped ? p->status : -1;
	for (int i = 0; i < limit_s * 10 && !p->reaped; i++) {
		r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid)
			p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r)		/* ended, or reaped elsewhere */
			break;
		msleep(100);
	}
	if (!r && !p->reaped) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &st, 0);
	}
	p->out = proc_read(p->out_fd);
	p->err = proc_read(p->err_fd);
	close(p->out_fd);
	close(p->err_fd);
	for (char *c = p->err; c && *c; c++)
		p->err_lines += *c == '\n';
}

void proc_release(struct proc *p)
{
	free(p->out);
	free(p->err);
}
