// SPDX-License-Identifier: GPL-2.0
/*
 * console.c - the guest's serial console on stdio.
 *
 * On a tty, stdin goes to raw mode (every key to the guest, Ctrl-C
 * included; output processing stays on) and is restored when hvx-run
 * ends, also on an error or a signal. Ctrl-A x quits; Ctrl-A Ctrl-A sends
 * one Ctrl-A.
 *
 * The UART itself is hvx's in-kernel 16550 when the VM has the in-kernel
 * devices: its bytes travel through the VM's console fd
 * (HVX_GET_CONSOLE_FD, non-blocking here; input the guest cannot take yet
 * waits in a buffer until poll() says it can). Without them
 * hvx-run answers COM1 (0x3f8) itself with a polled-only 16550 (no
 * interrupts), enough for test kernels: THR writes go to stdout, LSR
 * says the transmitter is empty and whether input waits in RBR.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "hvx-run.h"

static struct termios saved_tty;
static bool tty_raw;
static int stdin_fd = STDIN_FILENO;
static bool escape;

/* Input for the fallback UART. */
static pthread_mutex_t uart_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t rx_buf[4096];
static unsigned int rx_head, rx_len;
static uint8_t uart_regs[8];	/* IER, LCR, MCR, SCR as written */
static uint8_t uart_dll, uart_dlm;

void console_restore(void)
{
	if (tty_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
		tty_raw = false;
	}
}

void console_init(struct vm *vm)
{
	struct termios t;

	(void)vm;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty))
		return;
	t = saved_tty;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		return;
	tty_raw = true;
	atexit(console_restore);
}

int console_stdin_fd(void)
{
	return stdin_fd;
}

/* Input for the in-kernel UART, while its receive FIFO is full. */
static uint8_t pend[4096];
static size_t pend_len;

bool console_pending(void)
{
	return pend_len > 0;
}

void console_flush(struct vm *vm)
{
	while (pend_len) {
		ssize_t n = write(vm->console_fd, pend, pend_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* EAGAIN: poll() says when to go on */
		memmove(pend, pend + n, pend_len - (size_t)n);
		pend_len -= (size_t)n;
	}
}

static void to_guest(struct vm *vm, const uint8_t *buf, size_t len)
{
	if (vm->console_fd >= 0) {
		/* Beyond 4 KiB of typed-ahead input, the rest is dropped. */
		if (len > sizeof(pend) - pend_len)
			len = sizeof(pend) - pend_len;
		memcpy(pend + pend_len, buf, len);
		pend_len += len;
		console_flush(vm);
		return;
	}
	pthread_mutex_lock(&uart_lock);
	for (size_t i = 0; i < len && rx_len < sizeof(rx_buf); i++)
		rx_buf[(rx_head + rx_len++) % sizeof(rx_buf)] = buf[i];
	pthread_mutex_unlock(&uart_lock);
}

bool console_input(struct vm *vm)
{
	uint8_t in[256], out[256];
	size_t m = 0;
	ssize_t n;

	n = read(stdin_fd, in, sizeof(in));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		stdin_fd = -1;	/* EOF: the guest just gets no more input */
		return true;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (escape) {
			escape = false;
			if (in[i] == 'x' || in[i] == 'X')
				return false;
			if (in[i] != 0x01)
				continue;
		} else if (in[i] == 0x01) {
			escape = true;
			continue;
		}
		out[m++] = in[i];
	}
	to_guest(vm, out, m);
	return true;
}

void console_output(struct vm *vm)
{
	uint8_t buf[4096];
	ssize_t n;

	while ((n = read(vm->console_fd, buf, sizeof(buf))) > 0) {
		ssize_t done = 0;

		while (done < n) {
			ssize_t w = write(STDOUT_FILENO, buf + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return;
			done += w;
		}
	}
}

/* The fallback COM1 (16550A datasheet, register map). */
bool uart_io(struct vm *vm, uint16_t port, bool out, uint8_t *data)
{
	unsigned int reg = port - PORT_COM1;
	bool dlab = uart_regs[3] & 0x80;
	ssize_t n;

	(void)vm;
	pthread_mutex_lock(&uart_lock);
	if (out) {
		if (reg == 0 && !dlab) {
			pthread_mutex_unlock(&uart_lock);
			do {
				n = write(STDOUT_FILENO, data, 1);
			} while (n < 0 && errno == EINTR);
			return true;
		}
		if (reg == 0)
			uart_dll = *data;
		else if (reg == 1 && dlab)
			uart_dlm = *data;
		else if (reg != 2 && reg != 5 && reg != 6)
			uart_regs[reg] = *data;		/* IER, LCR, MCR, SCR */
		pthread_mutex_unlock(&uart_lock);
		return true;
	}
	switch (reg) {
	case 0:
		if (dlab) {
			*data = uart_dll;
		} else if (rx_len) {
			*data = rx_buf[rx_head];
			rx_head = (rx_head + 1) % sizeof(rx_buf);
			rx_len--;
		} else {
			*data = 0;
		}
		break;
	case 1:
		*data = dlab ? uart_dlm : uart_regs[1];
		break;
	case 2:
		*data = 0x01;			/* IIR: no interrupt pending */
		break;
	case 5:
		*data = 0x60 | (rx_len ? 1 : 0);	/* THRE, TEMT, DR */
		break;
	case 6:
		*data = 0xb0;			/* MSR: DCD, DSR, CTS */
		break;
	default:
		*data = uart_regs[reg];
		break;
	}
	pthread_mutex_unlock(&uart_lock);
	return true;
}
