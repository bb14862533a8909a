// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test - a bounded, type-aware ioctl fuzzer for /dev/hvx, in the
 * spirit of syzkaller's descriptions of /dev/kvm: random sequences of
 * every hvx ioctl on several VMs and vCPUs, with random sizes, flags,
 * GPAs, register states, CPUID/MSR lists and events, and short runs of
 * random guest code, the in-kernel platform and interrupt routing
 * (HVX_CREATE_PLATFORM, GSIs, MSIs, irqfds), dirty logging and memory
 * limits, device assignment, in-kernel virtio devices, the state
 * ioctls (vCPU XSAVE, XCRs, debug registers and LAPIC; device records
 * mutated bit by bit, truncated, or of random sizes), and the hypercall
 * numbers that exit to userspace (HVX_SET_HYPERCALL_EXITS). Every call must succeed or fail with a documented
 * errno; afterwards no reference may be left (module refcount back to its
 * start) and a normal guest must still run. The harness fails the run on
 * any kernel WARN, oops or lockdep report in the console.
 *
 * HVX_FUZZ_SEED and HVX_FUZZ_ITERS override the seed and the length.
 */
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <linux/if_tun.h>

#include "hvx_test.h"

#define NVMS		3
#define NVCPUS		3
#define MEM_SIZE	(2u << 20)

struct fvm {
	int fd;
	int vcpu[NVCPUS];
	void *run[NVCPUS];
	uint8_t *mem;
};

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Mostly small or boundary values, sometimes anything. */
static uint64_t rnd_val(void)
{
	static const uint64_t edge[] = {
		0, 1, 2, 0xfff, 0x1000, 0xffff, 0x10000, 0x7fffffff,
		0x80000000, 0xffffffff, 0x100000000ull, 1ull << 47,
		0xffff800000000000ull, 1ull << 63, ~0ull, 0x20000,
	};
	uint64_t r = rnd();

	switch (r & 3) {
	case 0:
		return edge[(r >> 2) % 16];
	case 1:
		return (r >> 2) & 0xffff;
	default:
		return rnd();
	}
}

static void fill(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (rnd() & 7) ? 0 : rnd();	/* mostly zero: reserved ok */
}

static bool errno_allowed(int e)
{
	switch (e) {
	case EINVAL: case ENOTTY: case EEXIST: case ENOENT: case EFAULT:
	case EBUSY: case EINTR: case EIO: case ENOMEM: case EOPNOTSUPP:
	case EBADF: case ENOSPC: case ENXIO: case ENODEV: case EPERM:
	case EAGAIN:
		return true;
	}
	return false;
}

static void on_alarm(int sig)
{
	(void)sig;
}

#define CHECK(call) do {						\
	errno = 0;							\
	if ((call) < 0)							\
		ASSERT_TRUE(errno_allowed(errno))			\
			TH_LOG("%s: unexpected %s (iteration %lu)",	\
			       #call, strerrorname_np(errno), iter);	\
} while (0)

TEST(random_ioctl_sequences)
{
	static uint8_t buf[8192] __attribute__((aligned(64)));
	static uint8_t state[HVX_VM_STATE_MAX_SIZE + 4096];
	struct sigaction sa = { .sa_handler = on_alarm };
	struct fvm vms[NVMS];
	unsigned long iters = 3000, iter;
	long refcnt;
	int sys;

	REQUIRE_VMX();
	rnd_state = getenv("HVX_FUZZ_SEED") ? strtoull(getenv("HVX_FUZZ_SEED"), 0, 0) :
					      0x5eed1234abcdull;
	if (getenv("HVX_FUZZ_ITERS"))
		iters = strtoul(getenv("HVX_FUZZ_ITERS"), 0, 0);
	TH_LOG("seed %#lx, %lu iterations", (unsigned long)rnd_state, iters);
	sigaction(SIGALRM, &sa, NULL);
	refcnt = hvx_module_refcnt();
	sys = hvx_open();
	for (int i = 0; i < NVMS; i++) {
		vms[i].fd = -1;
		vms[i].mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, vms[i].mem);
		fill(vms[i].mem, MEM_SIZE);	/* random guest code */
		for (int j = 0; j < NVCPUS; j++) {
			vms[i].vcpu[j] = -1;
			vms[i].run[j] = NULL;
		}
	}

	for (iter = 0; iter < iters; iter++) {
		struct fvm *vm = &vms[rnd() % NVMS];
		int j = rnd() % NVCPUS, vfd = vm->vcpu[j];
		uint64_t op = rnd() % 30;

		fill(buf, sizeof(buf));
		switch (op) {
		case 0:		/* create a VM */
			if (vm->fd < 0)
				CHECK(vm->fd = ioctl(sys, HVX_CREATE_VM,
						     rnd() & 1 ? 0 : rnd_val()));
			break;
		case 1:		/* destroy a VM, vCPUs keep it alive */
			if (vm->fd >= 0 && !(rnd() & 3)) {
				close(vm->fd);
				vm->fd = -1;
			}
			break;
		case 2: {	/* memory regions: often valid, sometimes not */
			struct hvx_memory_region *r = (void *)buf;

			r->slot = rnd() % 40;
			r->flags = rnd() & 1 ? rnd() % 4 : rnd_val();
			r->guest_phys_addr = rnd() & 1 ? (rnd() % 8) << 20 : rnd_val();
			r->memory_size = rnd() & 1 ? (1 + rnd() % 4) << 16 : rnd_val();
			r->userspace_addr = rnd() & 3 ? (uint64_t)vm->mem : rnd_val();
			CHECK(ioctl(vm->fd, HVX_SET_MEMORY_REGION, r));
			break;
		}
		case 3:		/* create a vCPU */
			if (vfd < 0 && vm->fd >= 0) {
				CHECK(vm->vcpu[j] = ioctl(vm->fd, HVX_CREATE_VCPU,
							  rnd() & 3 ? j : rnd_val()));
				if (vm->vcpu[j] >= 0) {
					vm->run[j] = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
							  MAP_SHARED, vm->vcpu[j], 0);
					if (vm->run[j] == MAP_FAILED)
						vm->run[j] = NULL;
				}
			}
			break;
		case 4:		/* close a vCPU */
			if (vfd >= 0 && !(rnd() & 3)) {
				if (vm->run[j])
					munmap(vm->run[j], 8192);
				close(vfd);
				vm->vcpu[j] = -1;
				vm->run[j] = NULL;
			}
			break;
		case 5:		/* registers: random values, sane RFLAGS often */
			if (rnd() & 1)
				((struct hvx_regs *)buf)->rflags = 2;
			CHECK(ioctl(vfd, HVX_SET_REGS, buf));
			CHECK(ioctl(vfd, HVX_GET_REGS, buf));
			break;
		case 6: {	/* special registers: mutate a valid set */
			struct hvx_sregs *s = (void *)buf;

			if (ioctl(vfd, HVX_GET_SREGS, s) == 0) {
				((uint8_t *)s)[rnd() % sizeof(*s)] ^= 1 << (rnd() % 8);
				if (rnd() & 1)
					s->cr0 = rnd_val();
				CHECK(ioctl(vfd, HVX_SET_SREGS, s));
			}
			break;
		}
		case 7: {
			struct hvx_cpuid *c = (void *)buf;

			c->nent = rnd() % 90;
			CHECK(ioctl(vfd, HVX_SET_CPUID, c));
			CHECK(ioctl(vfd, HVX_GET_CPUID, buf));
			break;
		}
		case 8: {
			struct hvx_msrs *m = (void *)buf;

			m->nmsrs = rnd() % 70;
			for (unsigned int k = 0; k < 64; k++) {
				m->entries[k].index = rnd() & 1 ? 0xc0000080 + rnd() % 0x110 :
								  rnd() % 0x800;
				m->entries[k].data = rnd_val();
			}
			CHECK(ioctl(vfd, rnd() & 1 ? HVX_SET_MSRS : HVX_GET_MSRS, m));
			break;
		}
		case 9:
			((struct hvx_interrupt *)buf)->vector = rnd() % 300;
			CHECK(ioctl(vfd, HVX_INTERRUPT, buf));
			break;
		case 10:
			CHECK(ioctl(vfd, HVX_NMI, rnd() & 7 ? 0 : rnd_val()));
			break;
		case 11:
			CHECK(ioctl(vfd, rnd() & 1 ? HVX_SET_VCPU_EVENTS :
						    HVX_GET_VCPU_EVENTS, buf));
			break;
		case 12: {
			struct hvx_ipi *ipi = (void *)buf;

			ipi->vcpu_id = rnd() % 5;
			ipi->kind = rnd() % 4;
			CHECK(ioctl(vm->fd, HVX_SEND_IPI, ipi));
			break;
		}
		case 13:
			if (rnd() & 3) {
				((struct hvx_mp_state *)buf)->state = rnd() % 4;
				CHECK(ioctl(vfd, HVX_SET_MP_STATE, buf));
			} else {
				CHECK(ioctl(vfd, HVX_GET_LAPIC, buf));
			}
			break;
		case 14:
			if (rnd() & 1)
				CHECK(ioctl(vm->fd, rnd() & 1 ? HVX_SET_TSC_OFFSET :
								HVX_GET_TSC_OFFSET, buf));
			else
				CHECK(ioctl(vm->fd, rnd() & 1 ? HVX_SET_CLOCK :
								HVX_GET_CLOCK, buf));
			break;
		case 15: {	/* run random code for at most 5 ms */
			struct itimerval it = { .it_value = { .tv_usec = 5000 } };

			if (vm->run[j])
				((struct hvx_run *)vm->run[j])->immediate_exit = !(rnd() & 7);
			setitimer(ITIMER_REAL, &it, NULL);
			CHECK(ioctl(vfd, HVX_RUN, rnd() & 15 ? 0 : rnd_val()));
			it.it_value.tv_usec = 0;
			setitimer(ITIMER_REAL, &it, NULL);
			break;
		}
		case 16: {	/* a wrong (or right) mmap */
			size_t len = rnd() % 3 * 4096 + 4096;
			void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, vfd,
				       (rnd() % 3) * 4096);

			if (p != MAP_FAILED)
				munmap(p, len);
			break;
		}
		case 17: {	/* any hvx ioctl number on any fd */
			int fds[] = { sys, vm->fd, vfd };
			unsigned int nr = rnd() % 0x80, size = rnd() % 2 ?
				(unsigned int)(rnd() % 4096) : 0;
			unsigned int cmd = _IOC(rnd() % 4, HVXIO, nr, size);

			int ret;

			if (cmd == HVX_RUN || cmd == HVX_CREATE_VM)
				break;	/* covered above, with limits */
			CHECK(ret = ioctl(fds[rnd() % 3], cmd,
					  rnd() & 7 ? (uint64_t)buf : rnd_val()));
			if (ret > 0 && cmd == HVX_CREATE_VCPU)
				close(ret);	/* a vCPU fd we do not track */
			break;
		}
		case 18: {	/* the in-kernel platform: often all of it */
			struct hvx_platform_config *c = (void *)buf;

			c->devices = rnd() & 1 ? HVX_PLATFORM_ALL : rnd_val();
			c->flags = rnd() & 7 ? 0 : rnd_val();
			CHECK(ioctl(vm->fd, HVX_CREATE_PLATFORM, c));
			break;
		}
		case 19: {	/* GSIs and MSIs from userspace */
			struct hvx_irq_level *l = (void *)buf;

			if (rnd() & 1) {
				l->gsi = rnd() % 30;
				l->level = rnd() % 3;
				CHECK(ioctl(vm->fd, HVX_IRQ_LINE, l));
			} else {
				struct hvx_msi *m = (void *)buf;

				m->address_lo = rnd() & 1 ? 0xfee00000 | (rnd() % 4) << 12 :
							    rnd_val();
				m->data = rnd() & 1 ? 0x20 + rnd() % 200 : rnd_val();
				CHECK(ioctl(vm->fd, HVX_SIGNAL_MSI, m));
			}
			break;
		}
		case 20: {	/* irqfds: bind, fire, unbind or just close */
			struct hvx_irqfd *f = (void *)buf;
			int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			uint64_t one = 1;

			f->fd = rnd() & 7 ? efd : (int)rnd_val();
			f->flags = rnd() & 1 ? rnd() % 8 : 0;
			f->gsi = rnd() % 30;
			f->resamplefd = rnd() & 1 ? -1 : efd;
			f->msi.address_lo = 0xfee00000;
			f->msi.data = 0x30;
			CHECK(ioctl(vm->fd, HVX_IRQFD, f));
			if (efd >= 0) {
				if (write(efd, &one, sizeof(one)) < 0)
					break;
				if (rnd() & 1) {
					f->flags |= HVX_IRQFD_DEASSIGN;
					CHECK(ioctl(vm->fd, HVX_IRQFD, f));
				}
				close(efd);	/* a bound eventfd goes with it */
			}
			break;
		}
		case 21: {	/* dirty log into a random or real buffer */
			struct hvx_dirty_log *d = (void *)buf;

			d->slot = rnd() % 40;
			d->dirty_bitmap = rnd() & 3 ? (uint64_t)(buf + 4096) : rnd_val();
			CHECK(ioctl(vm->fd, HVX_GET_DIRTY_LOG, d));
			break;
		}
		case 22: {	/* memory limit and information */
			struct hvx_mem_limit *l = (void *)buf;

			l->max_bytes = rnd() & 1 ? (rnd() % 64) << 16 : rnd_val();
			CHECK(ioctl(vm->fd, rnd() & 1 ? HVX_SET_MEM_LIMIT :
							HVX_GET_MEM_INFO, buf));
			break;
		}
		case 23: {	/* device assignment: random addresses */
			struct hvx_pci_device *d = (void *)buf;
			int ret;

			d->segment = rnd() & 7 ? 0 : rnd_val();
			d->bus = rnd() & 3 ? 0 : rnd();
			d->devfn = rnd();
			CHECK(ret = ioctl(vm->fd, rnd() & 1 ? HVX_ASSIGN_DEVICE :
							      HVX_UNASSIGN_DEVICE, d));
			if (ret > 0)
				close(ret);	/* a device fd: give it back */
			break;
		}
		case 24: {	/* vCPU state: a GET, one bit flipped, a SET */
			static const unsigned long gets[] = {
				HVX_GET_LAPIC, HVX_GET_XSAVE, HVX_GET_XCRS,
				HVX_GET_DEBUGREGS,
			}, sets[] = {
				HVX_SET_LAPIC, HVX_SET_XSAVE, HVX_SET_XCRS,
				HVX_SET_DEBUGREGS,
			};
			unsigned int k = rnd() % 4, size = _IOC_SIZE(sets[k]);

			CHECK(ioctl(vfd, gets[k], buf));
			if (rnd() & 1)
				buf[rnd() % size] ^= 1 << (rnd() % 8);
			CHECK(ioctl(vfd, sets[k], rnd() & 15 ? (uint64_t)buf : rnd_val()));
			break;
		}
		case 25: {	/* device records: saved, garbled, truncated */
			struct hvx_vm_state *a = (void *)buf;
			int len;

			a->addr = (uint64_t)state;
			a->size = rnd() & 3 ? HVX_VM_STATE_MAX_SIZE : rnd_val();
			a->flags = rnd() & 7 ? 0 : rnd_val();
			memset(a->reserved, 0, rnd() & 7 ? sizeof(a->reserved) : 0);
			CHECK(len = ioctl(vm->fd, HVX_GET_VM_STATE, a));
			if (len <= 0)
				len = rnd() % 4096;
			switch (rnd() % 4) {
			case 0:
				state[rnd() % len] ^= 1 << (rnd() % 8);
				break;
			case 1:
				len = rnd() % len;
				break;
			case 2:
				fill(state, len);
				break;
			}
			a->size = rnd() & 7 ? (uint32_t)len : rnd_val();
			a->addr = rnd() & 15 ? (uint64_t)state : rnd_val();
			CHECK(ioctl(vm->fd, HVX_SET_VM_STATE, a));
			break;
		}
		case 26: {	/* in-kernel virtio devices on a memfd, a tap or not */
			struct hvx_virtio_device *d = (void *)buf;
			static bool tun_tried;
			bool net = !(rnd() & 3);
			int mfd;

			/* tun.ko where check.sh puts it, once; without it no taps. */
			if (net && !tun_tried) {
				tun_tried = true;
				if (access("/dev/net/tun", F_OK) &&
				    system("insmod /lib/hvx/net/tun.ko >/dev/null 2>&1"))
					tun_tried = true;
			}
			mfd = net ? open("/dev/net/tun", O_RDWR | O_CLOEXEC) :
				  memfd_create("hvx-fuzz-disk", MFD_CLOEXEC);

			if (!net && mfd >= 0 && ftruncate(mfd, (rnd() % 64) << 12))
				break;
			if (net && mfd >= 0 && (rnd() & 7)) {
				/* A tap (or a tun), else an unattached fd. */
				struct ifreq ifr = { .ifr_name = "hvxfz%d" };

				ifr.ifr_flags = (rnd() & 7 ? IFF_TAP : IFF_TUN) |
						IFF_NO_PI | (rnd() & 3 ? IFF_VNET_HDR : 0);
				ioctl(mfd, TUNSETIFF, &ifr);
			}
			if (!net && (rnd() & 3))
				memset(d->mac, 0, sizeof(d->mac));
			if (net) {
				/* A valid MAC or not; no disk serial, mostly. */
				d->mac[0] = rnd() & 7 ? 0x52 : rnd();
				for (int i = 1; i < 6; i++)
					d->mac[i] = rnd();
				if (rnd() & 3)
					memset(d->serial, 0, sizeof(d->serial));
			}
			d->type = net ? HVX_VIRTIO_NET :
				  rnd() & 3 ? HVX_VIRTIO_BLK : rnd_val();
			d->flags = rnd() & 3 ? rnd() & HVX_VIRTIO_FLAGS : rnd_val();
			d->fd = rnd() & 7 ? mfd : (int)rnd_val();
			d->devfn = rnd() & 1 ? (1 + rnd() % 31) << 3 : rnd();
			d->gsi = rnd() % 30;
			d->bar = rnd() & 1 ? 0xe0000000 + (rnd() % 8) * 0x4000 :
					     rnd_val();
			CHECK(ioctl(vm->fd, HVX_CREATE_VIRTIO, d));
			if (mfd >= 0)
				close(mfd);	/* a device keeps its own */
			break;
		}
		case 27: {	/* hypercall exits: mostly valid sets */
			struct hvx_hypercall_exits *e = (void *)buf;

			if (rnd() & 1) {
				memset(e, 0, sizeof(*e));
				e->bitmap[rnd() % 16] = rnd() & 1 ? rnd_val() :
						       1ull << (rnd() % 64);
			}
			CHECK(ioctl(vm->fd, HVX_SET_HYPERCALL_EXITS, e));
			break;
		}
		default:	/* reads that must not fail on live fds */
			if (vfd >= 0)
				ASSERT_EQ(0, ioctl(vfd, HVX_GET_SREGS, buf));
			if (vm->fd >= 0)
				ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_TSC_OFFSET, buf));
			break;
		}
	}

	for (int i = 0; i < NVMS; i++) {
		for (int j = 0; j < NVCPUS; j++) {
			if (vms[i].run[j])
				munmap(vms[i].run[j], 8192);
			if (vms[i].vcpu[j] >= 0)
				close(vms[i].vcpu[j]);
		}
		if (vms[i].fd >= 0)
			close(vms[i].fd);
		munmap(vms[i].mem, MEM_SIZE);
	}
	close(sys);
	ASSERT_TRUE(wait_for_refcnt(refcnt, 5000))
		TH_LOG("module refcount %ld, expected %ld: a reference leaked",
		       hvx_module_refcnt(), refcnt);
	{
		struct vcpu *vcpu;
		struct vm *vm;

		vcpu = vm_create_long(&vm, guest_sync_done, 5);
		ASSERT_EQ(5, vcpu_run_sync(vcpu));
		vcpu_run_done(vcpu);
		vm_free(vm);
	}
}

TEST_HARNESS_MAIN
