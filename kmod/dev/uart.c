// SPDX-License-Identifier: GPL-2.0
/*
 * uart.c - a 16550A UART at COM1 (ports 0x3f8-0x3ff, IRQ 4) whose line is
 * a per-VM ring buffer: what the guest transmits is read from a console
 * fd (HVX_GET_CONSOLE_FD), what userspace writes to that fd is what the
 * guest receives. No byte costs an exit to userspace.
 *
 * Register semantics are from the National Semiconductor PC16550D
 * datasheet: RBR/THR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR and the
 * divisor latch (DLAB), 16-byte FIFOs with receive trigger levels, the
 * interrupt priorities of the IIR, and loopback mode. On the PC, MCR
 * OUT2 gates the IRQ line, and the OUT2 pin is inactive in loopback mode,
 * so loopback interrupts do not reach the PIC.
 *
 * The virtual line has no character time: a byte in the transmit FIFO
 * leaves at once if the ring has room, and the receiver's character
 * timeout is signalled as soon as data sits below the trigger level.
 *
 * Flow control: when the 64 KiB ring is full, transmission stops. The
 * bytes stay in the transmit FIFO, THRE and TEMT stay clear, and the
 * guest waits for THRE (polling or THRE interrupt) as behind a real
 * line with CTS flow control, until a console reader drains the ring.
 * Nothing is dropped, except a byte written to a full transmit FIFO, as
 * on the chip. Input is flow-controlled the same way: a console write
 * never overruns the receive FIFO; it waits (or returns -EAGAIN) until
 * the guest reads.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/serial_reg.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "../hvx_core.h"
#include "dev.h"

#define UART_PORT		0x3f8
#define UART_GSI		4
#define UART_FIFO_SIZE		16
#define UART_RING_SIZE		(64 * 1024)
#define UART_CHUNK		256	/* bytes copied per locked step */
#define UART_LSR_ERRORS		(UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | \
				 UART_LSR_BI)

struct uart_fifo {
	u8 buf[UART_FIFO_SIZE];
	unsigned int head, count;
};

struct hvx_uart {
	struct hvx_io_dev iodev;
	struct hvx_vm *vm;
	spinlock_t lock;	/* registers, FIFOs and ring */
	struct mutex read_mutex;	/* one console reader at a time */
	struct mutex write_mutex;	/* one console writer at a time */
	wait_queue_head_t wq;	/* console readers, writers, pollers */
	u8 ier, lcr, mcr, fcr, scr, dll, dlm;
	u8 lsr_err;		/* OE, PE, FE, BI until LSR is read */
	u8 msr;			/* modem status, with delta bits 3:0 */
	bool thre_pending;	/* THRE interrupt latched */
	bool irq_level;		/* what we last drove on GSI 4 */
	struct uart_fifo rx, tx;
	u8 *ring;		/* transmitted bytes, UART_RING_SIZE */
	unsigned int ring_head, ring_count;
};

static unsigned int fifo_capacity(const struct hvx_uart *u)
{
	return (u->fcr & UART_FCR_ENABLE_FIFO) ? UART_FIFO_SIZE : 1;
}

static bool fifo_push(struct uart_fifo *f, unsigned int cap, u8 c)
{
	if (f->count >= cap)
		return false;
	f->buf[(f->head + f->count++) % UART_FIFO_SIZE] = c;
	return true;
}

static u8 fifo_pop(struct uart_fifo *f)
{
	u8 c;

	if (!f->count)
		return 0;
	c = f->buf[f->head];
	f->head = (f->head + 1) % UART_FIFO_SIZE;
	f->count--;
	return c;
}

static bool loopback(const struct hvx_uart *u)
{
	return u->mcr & UART_MCR_LOOP;
}

/* Room for console input in the receive FIFO (none in loopback). */
static unsigned int rx_space(const struct hvx_uart *u)
{
	unsigned int cap = fifo_capacity(u);

	if (loopback(u) || u->rx.count >= cap)
		return 0;
	return cap - u->rx.count;
}

static unsigned int rx_trigger(const struct hvx_uart *u)
{
	static const u8 levels[] = { 1, 4, 8, 14 };

	if (!(u->fcr & UART_FCR_ENABLE_FIFO))
		return 1;
	return levels[u->fcr >> 6];
}

/* The highest-priority interrupt source, as IIR bits 3:0 (0x1: none). */
static u8 uart_iir(const struct hvx_uart *u)
{
	if ((u->ier & UART_IER_RLSI) && u->lsr_err)
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx.count)
		return u->rx.count >= rx_trigger(u) ? UART_IIR_RDI :
						      UART_IIR_RX_TIMEOUT;
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_ANY_DELTA))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/* Drive GSI 4 from the interrupt state; lock held. */
static void uart_update_irq(struct hvx_uart *u)
{
	bool level = uart_iir(u) != UART_IIR_NO_INT &&
		     (u->mcr & UART_MCR_OUT2) && !loopback(u);

	if (level != u->irq_level) {
		u->irq_level = level;
		hvx_irq_set_gsi(u->vm, UART_GSI, level);
	}
}

/*
 * Move the transmit FIFO to the line: the ring, or the receiver in
 * loopback. Return: true if the ring got bytes (wake readers).
 */
static bool uart_transmit(struct hvx_uart *u)
{
	bool had = u->tx.count, sent = false;

	while (u->tx.count) {
		if (loopback(u)) {
			u8 c = fifo_pop(&u->tx);

			if (!fifo_push(&u->rx, fifo_capacity(u), c))
				u->lsr_err |= UART_LSR_OE;
			continue;
		}
		if (u->ring_count == UART_RING_SIZE)
			break;		/* flow control: THRE stays clear */
		u->ring[(u->ring_head + u->ring_count++) % UART_RING_SIZE] =
			fifo_pop(&u->tx);
		sent = true;
	}
	if (had && !u->tx.count)
		u->thre_pending = true;
	return sent;
}

/* Modem status inputs: looped back from MCR, or a connected line. */
static void uart_update_msr(struct hvx_uart *u)
{
	u8 old = u->msr, new;

	if (loopback(u))
		new = (u->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
		      (u->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
		      (u->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
		      (u->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
	else
		new = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	new |= old & UART_MSR_ANY_DELTA;
	if ((old ^ new) & UART_MSR_CTS)
		new |= UART_MSR_DCTS;
	if ((old ^ new) & UART_MSR_DSR)
		new |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(new & UART_MSR_RI))
		new |= UART_MSR_TERI;	/* trailing edge only */
	if ((old ^ new) & UART_MSR_DCD)
		new |= UART_MSR_DDCD;
	u->msr = new;
}

static u8 uart_read_reg(struct hvx_uart *u, unsigned int reg, bool *wake)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	u8 val;

	switch (reg) {
	case UART_RX:
		if (dlab)
			return u->dll;
		val = fifo_pop(&u->rx);
		*wake = true;	/* room for console input */
		return val;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		val = uart_iir(u);
		/* Reading IIR ends a THRE interrupt it reports. */
		if (val == UART_IIR_THRI)
			u->thre_pending = false;
		if (u->fcr & UART_FCR_ENABLE_FIFO)
			val |= 0xc0;
		return val;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		val = u->lsr_err;
		if (u->rx.count)
			val |= UART_LSR_DR;
		if (!u->tx.count)
			val |= UART_LSR_THRE | UART_LSR_TEMT;
		u->lsr_err = 0;
		return val;
	case UART_MSR:
		val = u->msr;
		u->msr &= ~UART_MSR_ANY_DELTA;
		return val;
	default:
		return u->scr;
	}
}

static void uart_write_reg(struct hvx_uart *u, unsigned int reg, u8 val,
			   bool *wake)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		if (dlab) {
			u->dll = val;
			break;
		}
		u->thre_pending = false;
		/* A byte written to a full transmit FIFO is lost. */
		fifo_push(&u->tx, fifo_capacity(u), val);
		*wake = uart_transmit(u);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = val;
			break;
		}
		/* Enabling THRE interrupts with THR empty raises one. */
		if ((val & ~u->ier & UART_IER_THRI) && !u->tx.count)
			u->thre_pending = true;
		u->ier = val & 0x0f;
		break;
	case UART_FCR:
		if ((val ^ u->fcr) & UART_FCR_ENABLE_FIFO)
			val |= UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT;
		if (val & UART_FCR_CLEAR_RCVR)
			u->rx.count = 0;
		if ((val & UART_FCR_CLEAR_XMIT) && u->tx.count) {
			u->tx.count = 0;
			u->thre_pending = true;
		}
		u->fcr = val & (UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_MASK);
		*wake = true;
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & 0x1f;
		uart_update_msr(u);
		/* Leaving loopback may let held bytes out, or stop input. */
		uart_transmit(u);
		*wake = true;
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:	/* LSR, MSR: factory test writes, ignored */
		break;
	}
}

static int uart_read(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 port,
		     u8 size, u64 *val)
{
	struct hvx_uart *u = container_of(dev, struct hvx_uart, iodev);
	unsigned long flags;
	bool wake = false;

	spin_lock_irqsave(&u->lock, flags);
	*val = uart_read_reg(u, port - UART_PORT, &wake);
	uart_update_irq(u);
	spin_unlock_irqrestore(&u->lock, flags);
	if (wake)
		wake_up_interruptible(&u->wq);
	return 0;
}

static int uart_write(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu,
		      u64 port, u8 size, u64 val)
{
	struct hvx_uart *u = container_of(dev, struct hvx_uart, iodev);
	unsigned long flags;
	bool wake = false;

	spin_lock_irqsave(&u->lock, flags);
	uart_write_reg(u, port - UART_PORT, val, &wake);
	uart_update_irq(u);
	spin_unlock_irqrestore(&u->lock, flags);
	if (wake)
		wake_up_interruptible(&u->wq);
	return 0;
}

static const struct hvx_io_dev_ops uart_io_ops = {
	.read	= uart_read,
	.write	= uart_write,
};

static struct hvx_uart *console_uart(struct file *file)
{
	struct hvx_vm *vm = file->private_data;

	return vm->plat->uart;
}

static bool console_readable(struct hvx_uart *u)
{
	return READ_ONCE(u->ring_count) != 0;
}

static bool console_writable(struct hvx_uart *u)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&u->lock, flags);
	ret = rx_space(u) != 0;
	spin_unlock_irqrestore(&u->lock, flags);
	return ret;
}

/* Copy up to @len bytes of the ring to @buf without consuming them. */
static unsigned int ring_peek(struct hvx_uart *u, u8 *buf, unsigned int len)
{
	unsigned int n = min(len, u->ring_count), i;

	for (i = 0; i < n; i++)
		buf[i] = u->ring[(u->ring_head + i) % UART_RING_SIZE];
	return n;
}

static ssize_t console_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct hvx_uart *u = console_uart(file);
	unsigned long flags;
	u8 buf[UART_CHUNK];
	size_t done = 0;
	unsigned int n;
	ssize_t ret;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&u->read_mutex))
		return -ERESTARTSYS;
	while (done < count) {
		spin_lock_irqsave(&u->lock, flags);
		n = ring_peek(u, buf, min_t(size_t, count - done, UART_CHUNK));
		spin_unlock_irqrestore(&u->lock, flags);
		if (!n) {
			if (done)
				break;
			ret = -EAGAIN;
			if (file->f_flags & O_NONBLOCK)
				goto out;
			ret = wait_event_interruptible(u->wq,
						       console_readable(u));
			if (ret)
				goto out;
			continue;
		}
		ret = -EFAULT;
		if (copy_to_user(ubuf + done, buf, n)) {
			if (!done)
				goto out;
			break;
		}
		/* Only readers consume, and they are serialised. */
		spin_lock_irqsave(&u->lock, flags);
		u->ring_head = (u->ring_head + n) % UART_RING_SIZE;
		u->ring_count -= n;
		uart_transmit(u);	/* held bytes go out; THRE may rise */
		uart_update_irq(u);
		spin_unlock_irqrestore(&u->lock, flags);
		done += n;
	}
	ret = done;
out:
	mutex_unlock(&u->read_mutex);
	return ret;
}

static ssize_t console_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	struct hvx_uart *u = console_uart(file);
	unsigned long flags;
	u8 buf[UART_FIFO_SIZE];
	size_t done = 0;
	unsigned int n, i;
	ssize_t ret;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&u->write_mutex))
		return -ERESTARTSYS;
	while (done < count) {
		if (!console_writable(u)) {
			/* Non-blocking: a short count, or -EAGAIN. */
			ret = -EAGAIN;
			if (file->f_flags & O_NONBLOCK)
				goto short_write;
			ret = wait_event_interruptible(u->wq,
						       console_writable(u));
			if (ret)
				goto short_write;
			continue;
		}
		n = min_t(size_t, count - done, sizeof(buf));
		ret = -EFAULT;
		if (copy_from_user(buf, ubuf + done, n))
			goto short_write;
		/* Only writers fill the FIFO from outside; take what fits. */
		spin_lock_irqsave(&u->lock, flags);
		n = min(n, rx_space(u));
		for (i = 0; i < n; i++)
			fifo_push(&u->rx, UART_FIFO_SIZE, buf[i]);
		uart_update_irq(u);
		spin_unlock_irqrestore(&u->lock, flags);
		done += n;
	}
short_write:
	/* What was taken counts; an error only if nothing was. */
	if (done)
		ret = done;
	mutex_unlock(&u->write_mutex);
	return ret;
}

static __poll_t console_poll(struct file *file, poll_table *wait)
{
	struct hvx_uart *u = console_uart(file);
	__poll_t mask = 0;

	poll_wait(file, &u->wq, wait);
	if (console_readable(u))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (console_writable(u))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int console_release(struct inode *inode, struct file *file)
{
	hvx_vm_put(file->private_data);
	return 0;
}

static const struct file_operations hvx_console_fops = {
	.owner		= THIS_MODULE,
	.read		= console_read,
	.write		= console_write,
	.poll		= console_poll,
	.release	= console_release,
	.llseek		= noop_llseek,
};

/**
 * hvx_uart_console_fd - HVX_GET_CONSOLE_FD: an fd on COM1's line
 * @vm: the VM.
 * @arg: the ioctl argument; must be 0.
 *
 * read() takes what the guest transmitted (blocking until there is
 * some, or -EAGAIN with O_NONBLOCK); write() gives the guest input, as
 * much as its receive FIFO has room for (blocking until all is taken,
 * or a short count / -EAGAIN with O_NONBLOCK); poll() reports EPOLLIN
 * when output is waiting and EPOLLOUT when the FIFO has room. Several
 * fds may exist; they share the line. Each holds a reference to the VM.
 * Context: process context.
 * Return: a new fd (O_RDWR | O_CLOEXEC), -EINVAL for a nonzero @arg,
 * -ENODEV if the VM has no HVX_PLATFORM_UART, or an fd allocation error.
 */
long hvx_uart_console_fd(struct hvx_vm *vm, unsigned long arg)
{
	bool have;
	int fd;

	if (arg)
		return -EINVAL;
	mutex_lock(&vm->lock);
	have = vm->plat && vm->plat_ready && vm->plat->uart;
	mutex_unlock(&vm->lock);
	if (!have)
		return -ENODEV;
	kref_get(&vm->ref);
	fd = anon_inode_getfd("hvx-console", &hvx_console_fops, vm,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		hvx_vm_put(vm);
	return fd;
}

/**
 * hvx_uart_create - create the 16550A at COM1
 * @vm: the VM (HVX_CREATE_PLATFORM with HVX_PLATFORM_UART).
 *
 * Claims ports 0x3f8-0x3ff and allocates the 64 KiB output ring. The
 * chip starts as after reset: FIFOs off, interrupts disabled, OUT2 low.
 * Context: process context.
 * Return: 0, -ENOMEM, or the bus's error for a taken port.
 */
int hvx_uart_create(struct hvx_vm *vm)
{
	struct hvx_uart *u;
	int ret;

	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return -ENOMEM;
	u->ring = kvmalloc(UART_RING_SIZE, GFP_KERNEL_ACCOUNT);
	if (!u->ring) {
		kfree(u);
		return -ENOMEM;
	}
	spin_lock_init(&u->lock);
	mutex_init(&u->read_mutex);
	mutex_init(&u->write_mutex);
	init_waitqueue_head(&u->wq);
	u->vm = vm;
	u->iodev.ops = &uart_io_ops;
	u->msr = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	ret = hvx_bus_register_fixed(vm, UART_PORT, 8, &u->iodev, true);
	if (ret) {
		kvfree(u->ring);
		kfree(u);
		return ret;
	}
	vm->plat->uart = u;
	return 0;
}

/**
 * hvx_uart_destroy - remove COM1
 * @vm: the VM, being torn down (no console fd is open: each holds a
 *	reference to the VM).
 */
void hvx_uart_destroy(struct hvx_vm *vm)
{
	struct hvx_uart *u = vm->plat->uart;

	if (!u)
		return;
	hvx_bus_unregister(vm, &u->iodev);
	vm->plat->uart = NULL;
	mutex_destroy(&u->read_mutex);
	mutex_destroy(&u->write_mutex);
	kvfree(u->ring);
	kfree(u);
}

static void fifo_save(const struct uart_fifo *f, u8 *buf, u8 *count)
{
	unsigned int i;

	for (i = 0; i < f->count; i++)
		buf[i] = f->buf[(f->head + i) % UART_FIFO_SIZE];
	*count = f->count;
}

/**
 * hvx_uart_get_state - fill a HVX_STATE_UART record's payload
 * @vm: the VM, with a UART.
 * @s: the record, zeroed by the caller, with room for HVX_UART_RING_SIZE
 *	bytes of @s->ring.
 *
 * The console output not yet read is copied, not consumed.
 * Context: any.
 * Return: the record's size, header included, a multiple of 8.
 */
unsigned int hvx_uart_get_state(struct hvx_vm *vm, struct hvx_state_uart *s)
{
	struct hvx_uart *u = vm->plat->uart;
	unsigned long flags;

	BUILD_BUG_ON(sizeof(s->rx) != UART_FIFO_SIZE ||
		     sizeof(s->ring[0]) * HVX_UART_RING_SIZE != UART_RING_SIZE);
	spin_lock_irqsave(&u->lock, flags);
	s->ier = u->ier;
	s->lcr = u->lcr;
	s->mcr = u->mcr;
	s->fcr = u->fcr;
	s->scr = u->scr;
	s->dll = u->dll;
	s->dlm = u->dlm;
	s->lsr_err = u->lsr_err;
	s->msr = u->msr;
	s->flags = (u->thre_pending ? HVX_UART_THRE_PENDING : 0) |
		   (u->irq_level ? HVX_UART_IRQ : 0);
	fifo_save(&u->rx, s->rx, &s->rx_count);
	fifo_save(&u->tx, s->tx, &s->tx_count);
	s->ring_count = ring_peek(u, s->ring, UART_RING_SIZE);
	spin_unlock_irqrestore(&u->lock, flags);
	return ALIGN(sizeof(*s) + s->ring_count, 8);
}

/**
 * hvx_uart_check_state - check a HVX_STATE_UART record (size included)
 * @vm: the VM, with a UART.
 * @s: the record; @s->hdr.size bytes are readable.
 *
 * Return: 0, or -EINVAL: a size that is not the one @s->ring_count gives,
 * nonzero reserved or padding bytes, an unknown flag, bits set that the
 * registers do not have (IER 7:4, MCR 7:5, FCR other than enable and
 * trigger, LSR other than the error bits), more bytes in a FIFO than it
 * holds, more console bytes than the ring holds.
 */
int hvx_uart_check_state(struct hvx_vm *vm, const struct hvx_state_uart *s)
{
	unsigned int cap = (s->fcr & UART_FCR_ENABLE_FIFO) ? UART_FIFO_SIZE : 1;
	size_t end = sizeof(*s) + s->ring_count;

	if (s->ring_count > UART_RING_SIZE || s->hdr.size != ALIGN(end, 8) ||
	    memchr_inv((const u8 *)s + end, 0, s->hdr.size - end) ||
	    memchr_inv(s->reserved, 0, sizeof(s->reserved)) || s->reserved2 ||
	    (s->flags & ~(HVX_UART_THRE_PENDING | HVX_UART_IRQ)) ||
	    (s->ier & ~0x0f) || (s->mcr & ~0x1f) ||
	    (s->fcr & ~(UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_MASK)) ||
	    (s->lsr_err & ~UART_LSR_ERRORS) ||
	    s->rx_count > cap || s->tx_count > cap)
		return -EINVAL;
	return 0;
}

/**
 * hvx_uart_set_state - load a checked HVX_STATE_UART record
 * @vm: the VM, with a UART, its vCPUs stopped.
 * @s: the record (hvx_uart_check_state() accepted it).
 *
 * The console ring is replaced by the saved output, which console readers
 * of this VM then get.
 * Context: any.
 */
void hvx_uart_set_state(struct hvx_vm *vm, const struct hvx_state_uart *s)
{
	struct hvx_uart *u = vm->plat->uart;
	unsigned long flags;

	spin_lock_irqsave(&u->lock, flags);
	u->ier = s->ier;
	u->lcr = s->lcr;
	u->mcr = s->mcr;
	u->fcr = s->fcr;
	u->scr = s->scr;
	u->dll = s->dll;
	u->dlm = s->dlm;
	u->lsr_err = s->lsr_err;
	u->msr = s->msr;
	u->thre_pending = s->flags & HVX_UART_THRE_PENDING;
	u->irq_level = s->flags & HVX_UART_IRQ;
	u->rx.head = 0;
	u->rx.count = s->rx_count;
	memcpy(u->rx.buf, s->rx, sizeof(u->rx.buf));
	u->tx.head = 0;
	u->tx.count = s->tx_count;
	memcpy(u->tx.buf, s->tx, sizeof(u->tx.buf));
	u->ring_head = 0;
	u->ring_count = s->ring_count;
	memcpy(u->ring, s->ring, s->ring_count);
	uart_update_irq(u);
	spin_unlock_irqrestore(&u->lock, flags);
	wake_up_interruptible(&u->wq);
}
