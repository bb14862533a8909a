/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_core.h - VM and vCPU objects of the kmod/ room.
 */
#ifndef HVX_CORE_H
#define HVX_CORE_H

#include <linux/container_of.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include "hvx.h"
#include "ioctl.h"
#include "../iommu/iommu.h"
#include "../vmx/vmx.h"
#include "dev/dev.h"

/* Where a VM's one request to its owner is (struct hvx_vm_request). */
enum hvx_req_state {
	HVX_REQ_NONE,		/* none in progress */
	HVX_REQ_POSTED,		/* waiting for HVX_GET_REQUEST */
	HVX_REQ_TAKEN,		/* waiting for HVX_REQUEST_DONE */
};

/**
 * struct hvx_vm_request - a request to the VM's owner (request.c)
 * @lock: guards the rest.
 * @wq: the VM fd's pollers.
 * @open: the owner takes requests (it called HVX_GET_REQUEST), until
 *	the VM fd is closed.
 * @state: enum hvx_req_state.
 * @id: the request in progress (or the last one); never 0.
 * @action: its enum hvx_request_action.
 * @portid: the requester's netlink port.
 * @seq: the request's netlink sequence number.
 * @arg: its argument (kmalloc'd), NULL with HVX_REQ_NONE.
 */
struct hvx_vm_request {
	struct mutex lock;	/* the fields below */
	wait_queue_head_t wq;
	bool open;
	u8 state;
	u32 id;
	u32 action;
	u32 portid;
	u32 seq;
	char *arg;
};

/**
 * struct hvx_vm - one virtual machine, behind a VM fd
 * @ref: references: the VM fd and one per vCPU.
 * @mm: address space of the creating process (guest RAM lives there).
 * @lock: serialises vCPU creation and removal, and the TSC offset
 *	and IPI ioctls (HVX_IOC_LOCK_VM).
 * @vcpus: vCPUs by id; set under @lock; an entry goes back to NULL under
 *	@lock and the vCPU is freed after an RCU grace period, so the
 *	interrupt router may look vCPUs up under rcu_read_lock().
 * @vcpus_end: one past the highest vCPU id ever created, set under @lock
 *	before the vCPU is published: interrupt delivery looks no further.
 * @mem: guest-physical address space (ept/).
 * @flags: HVX_VM_* flags given at creation.
 * @vmx: its VMX state (vmx/): I/O bitmaps, TSC offset, MSR-exit policy,
 *	vCPU count (kept here under @lock).
 * @id: id in the module's registry (registry.c), 1 or more; 0 while not
 *	listed.
 * @owner_pid: thread-group pid of the creating process (a reference).
 * @owner_uid: effective uid of the creator when it created the VM.
 * @owner_comm: command name of the creator.
 * @bus: port and MMIO claims of in-kernel devices (dev/bus.c).
 * @plat: in-kernel platform devices (HVX_CREATE_PLATFORM), or NULL.
 * @plat_ready: @plat is fully created; vCPUs may be created.
 * @pt: the VM as PCI passthrough (iommu/) sees it; filled in once the
 *	VM has its id, and its passthrough state (@pt.pt) comes with the
 *	first assignment.
 * @irq_ack_notifiers: the interrupt router's ack notifiers (struct
 *	hvx_irq_ack_notifier, dev/irq.c); added and removed under
 *	@irq_ack_lock, walked under @irq_srcu.
 * @irq_ack_lock: serialises changes of @irq_ack_notifiers.
 * @irq_srcu: readers of @irq_ack_notifiers (their callbacks may sleep).
 * @virtio: in-kernel virtio devices (struct hvx_virtio, dev/virtio.h),
 *	added under @lock, freed with the VM.
 * @last_boosted: id of the vCPU a spinning sibling last yielded to
 *	(hvx_vcpu_on_spin()); the next search starts after it.
 * @req: the request to the owner in progress (HVX_CMD_REQUEST).
 */

struct hvx_vm {
	struct kref ref;
	u32 flags;
	struct hvx_vmx_vm vmx;
	struct mm_struct *mm;
	struct mutex lock;	/* vCPU creation and removal */
	struct hvx_vcpu *vcpus[HVX_MAX_VCPUS];
	unsigned int vcpus_end;
	struct hvx_mem mem;
	u32 id;
	struct pid *owner_pid;
	kuid_t owner_uid;
	char owner_comm[TASK_COMM_LEN];
	struct hvx_dev_bus bus;
	struct hvx_platform *plat;
	bool plat_ready;
	struct hvx_pt_host pt;
	struct hlist_head irq_ack_notifiers;
	spinlock_t irq_ack_lock;	/* writers of irq_ack_notifiers */
	struct srcu_struct irq_srcu;
	struct list_head virtio;
	int last_boosted;
	struct hvx_vm_request req;
};

/**
 * struct hvx_vcpu - one virtual CPU, behind a vCPU fd
 * @vm: its VM (a reference is held).
 * @run_lock: held while a thread runs the vCPU or touches its registers
 *	(HVX_IOC_LOCK_VCPU).
 * @run_page: struct hvx_run, page 0 of the vCPU mmap.
 * @io_page: I/O data, page 1 of the vCPU mmap.
 * @lapic: its local APIC (HVX_PLATFORM_LAPIC), or NULL.
 * @pid: the thread that last ran it (HVX_RUN), for directed yield
 *	(hvx_vcpu_on_spin() and KVM_HC_SCHED_YIELD); a reference, replaced
 *	by that thread only and read under rcu_read_lock().
 * @vmx: VMX state (vmx/).
 */
struct hvx_vcpu {
	struct hvx_vm *vm;
	struct mutex run_lock;	/* running it, touching its registers */
	struct page *run_page;
	struct page *io_page;
	struct hvx_lapic *lapic;
	struct pid __rcu *pid;
	struct hvx_vmx_vcpu vmx;
};

/*
 * to_hvx_vcpu - the vCPU that embeds VMX vCPU @v: the one link from vmx/'s
 * vCPU (device and APIC callbacks) back to kmod/'s.
 */
static inline struct hvx_vcpu *to_hvx_vcpu(struct hvx_vmx_vcpu *v)
{
	return container_of(v, struct hvx_vcpu, vmx);
}

int hvx_vm_create(u32 flags);
int hvx_vcpu_create(struct hvx_vm *vm, unsigned long id);
void hvx_vm_put(struct hvx_vm *vm);
bool hvx_vcpu_charge(void);
void hvx_vcpu_uncharge(void);

/* registry.c: VM ids and the list of VMs */
int hvx_registry_add(struct hvx_vm *vm);
void hvx_registry_remove(struct hvx_vm *vm);
void hvx_registry_lock(void);
void hvx_registry_unlock(void);
struct hvx_vm *hvx_registry_find(u32 id);
struct hvx_vm *hvx_registry_next(u32 *id);
void hvx_registry_exit(void);

/* netlink.c: the "hvx" generic netlink family */
int hvx_netlink_init(void);
void hvx_netlink_exit(void);
void hvx_netlink_vm_event(struct hvx_vm *vm, enum hvx_event event);
void hvx_netlink_vcpu_event(struct hvx_vcpu *vcpu, const struct hvx_run *run);
void hvx_netlink_request_done(struct hvx_vm *vm, u32 portid, u32 seq,
			      u32 action, u32 error, const char *msg);

/* request.c: requests to the VM's owner (HVX_CMD_REQUEST) */
struct netlink_ext_ack;
void hvx_request_init(struct hvx_vm *vm);
int hvx_request_post(struct hvx_vm *vm, u32 action, const char *arg,
		     u32 portid, u32 seq, struct netlink_ext_ack *extack);
long hvx_request_get(struct hvx_vm *vm, struct hvx_request *out);
long hvx_request_done(struct hvx_vm *vm, const struct hvx_request_done *d);
__poll_t hvx_request_poll(struct hvx_vm *vm, struct file *file,
			  poll_table *pt);
void hvx_request_release(struct hvx_vm *vm);

/* vmstate.c: HVX_GET_VM_STATE and HVX_SET_VM_STATE */
long hvx_vm_get_state(struct hvx_vm *vm, const struct hvx_vm_state *a);
long hvx_vm_set_state(struct hvx_vm *vm, const struct hvx_vm_state *a);

#endif /* HVX_CORE_H */
