/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio.h - in-kernel virtio 1.x devices: the PCI transport
 * (virtio_pci.c), split and packed virtqueues (virtqueue.c) and the device types
 * (virtio_blk.c, virtio_net.c). See "Virtio devices" in kmod/dev/README.md.
 */
#ifndef HVX_VIRTIO_H
#define HVX_VIRTIO_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/virtio_ring.h>
#include <linux/wait.h>

#include "dev.h"

struct hvx_vm;
struct hvx_virtio_device;
struct task_struct;

/* The largest queue size any type offers (struct hvx_virtio, @qmax). */
#define HVX_VQ_MAX_SIZE		1024
#define HVX_VIRTIO_MAX_VQS	4	/* queues per device */
/* MSI-X vectors: one per queue and one for configuration changes. */
#define HVX_VIRTIO_MSIX_VECS	(HVX_VIRTIO_MAX_VQS + 1)
/* A packed ring's position: its wrap counter in bit 15 (VRING_PACKED_EVENT_F_WRAP_CTR). */
#define HVX_VQ_WRAP		0x8000

/**
 * struct hvx_vq - one virtqueue, split or packed
 * @size: queue size the driver chose (descriptors), power of two for a
 *	split ring.
 * @msix: MSI-X vector of the queue, or VIRTIO_MSI_NO_VECTOR.
 * @enabled: the driver wrote 1 to queue_enable.
 * @desc: GPA of the descriptor table.
 * @avail: GPA of the driver (available) ring, or a packed ring's driver
 *	event suppression structure.
 * @used: GPA of the device (used) ring, or a packed ring's device event
 *	suppression structure.
 * @packed: VIRTIO_F_RING_PACKED was negotiated when the queue was
 *	enabled; the indices below are then positions in the descriptor
 *	ring with their wrap counter in bit 15 (HVX_VQ_WRAP).
 * @last_avail: next available-ring entry the device takes (packed: the
 *	next descriptor).
 * @avail_idx: the available index as the device last read it (split).
 * @used_idx: the used ring's idx as the device last wrote it (packed:
 *	where the next used descriptor goes).
 * @signalled: used index at the last interrupt (EVENT_IDX).
 * @signalled_valid: @signalled means something (cleared on reset).
 * @broken: a descriptor or ring violated the rules; the queue is stopped
 *	until the device is reset.
 * @npop: chains taken from a packed ring, modulo 2^16.
 * @popped: where each of the last chains taken from a packed ring began,
 *	indexed by @npop, for hvx_vq_unpop().
 * @ndesc: a packed ring's descriptor count of the chain taken with each
 *	buffer ID, which its used descriptor skips.
 *
 * @size .. @used are written by the driver through the common
 * configuration under the device's @lock, and fixed while @enabled: the
 * worker reads them once it saw @enabled under @lock. The rest is the worker's, and reset while
 * the worker is idle.
 */
struct hvx_vq {
	u16 size;
	u16 msix;
	bool enabled;
	u64 desc, avail, used;
	bool packed;
	u16 last_avail;
	u16 avail_idx;
	u16 used_idx;
	u16 signalled;
	bool signalled_valid;
	bool broken;
	u16 npop;
	u16 popped[HVX_VQ_MAX_SIZE];
	u16 ndesc[HVX_VQ_MAX_SIZE];
};

/**
 * struct hvx_vq_seg - one buffer of a descriptor chain
 * @gpa: guest-physical address, checked to be RAM.
 * @len: bytes.
 * @write: device-writable.
 */
struct hvx_vq_seg {
	u64 gpa;
	u32 len;
	bool write;
};

/**
 * struct hvx_vq_chain - a descriptor chain the worker took from a queue
 * @head: index of its first descriptor (split) or its buffer ID (packed):
 *	what the used ring returns.
 * @nseg: entries of @seg used.
 * @out_len: device-readable bytes (they come first).
 * @in_len: device-writable bytes.
 * @seg: the buffers in chain order; at most the queue size.
 */
struct hvx_vq_chain {
	u16 head;
	u16 nseg;
	u64 out_len;
	u64 in_len;
	struct hvx_vq_seg seg[HVX_VQ_MAX_SIZE];
};

struct hvx_virtio;
struct hvx_state_virtio;

/**
 * struct hvx_virtio_ops - what a device type adds to the transport
 * @id: virtio device id (PCI device id 0x1040 + @id).
 * @class: PCI class code (base class, subclass, interface).
 * @request: serve one chain of queue @q; set *@written to the bytes
 *	written into device-writable buffers. Runs in the worker (the VM
 *	owner's mm is in use, no lock held). Return 0, or -EFAULT for a
 *	chain that breaks the rules (the queue is then stopped).
 * @serve: optional: serve queue @q itself (a queue the device fills when
 *	its backing has data, like a network receive queue), in the worker
 *	like @request. Return the number of chains put in the used ring,
 *	or -ENOENT to leave the queue to @request.
 * @set_features: optional: the driver's accepted features became fixed
 *	(FEATURES_OK), or 0 at a reset. Called with the device's @lock held.
 * @stop: optional: stop waking the worker (called before it is stopped).
 * @release: free the type's resources (the worker is stopped).
 * @can_save: HVX_STATE_VIRTIO (with @state_type's record if the type
 *	has one) saves the device whole once its requests are complete.
 * @cfg_state: bytes at the start of the device configuration that are
 *	the device's state rather than its identity (virtio-net's MAC): a
 *	restore need not match them, and @set_state loads them.
 * @state_type: optional: the HVX_STATE_* type of the type's own record,
 *	which follows its HVX_STATE_VIRTIO record; 0 if none.
 * @state_size: the size of that record, header included.
 * @pause: optional: stop new work coming from the backing (a tap's
 *	frames) before a drain, so that the queues keep still while their
 *	state is read or loaded. Process context, no lock held.
 * @resume: undo @pause (also after a failed drain).
 * @get_state: fill the type's record (zeroed, its header written).
 *	Called with the device's @lock held, the worker idle.
 * @check_state: check the type's record @ext and the device configuration
 *	of @s against the device: 0 or -EINVAL. Called with @lock held.
 * @set_state: load @ext and @s's @cfg_state bytes, after the transport's
 *	state (and @set_features). Called with @lock held, the worker idle.
 */
struct hvx_virtio_ops {
	u16 id;
	u32 class;
	int (*request)(struct hvx_virtio *d, unsigned int q,
		       struct hvx_vq_chain *c, u32 *written);
	int (*serve)(struct hvx_virtio *d, unsigned int q);
	void (*set_features)(struct hvx_virtio *d, u64 features);
	void (*stop)(struct hvx_virtio *d);
	void (*release)(struct hvx_virtio *d);
	bool can_save;
	unsigned int cfg_state;
	u16 state_type;
	u32 state_size;
	void (*pause)(struct hvx_virtio *d);
	void (*resume)(struct hvx_virtio *d);
	void (*get_state)(struct hvx_virtio *d, void *ext);
	int (*check_state)(struct hvx_virtio *d,
			   const struct hvx_state_virtio *s, const void *ext);
	void (*set_state)(struct hvx_virtio *d,
			  const struct hvx_state_virtio *s, const void *ext);
};

/**
 * struct hvx_virtio - an in-kernel virtio PCI device; embedded in a type's
 * @node: in the VM's list (struct hvx_vm, @virtio), under vm->lock.
 * @vm: the VM (no reference: the VM destroys its devices first).
 * @ops: the type.
 * @pci: the PCI function on bus 0.
 * @mmio: BAR 0's claim on the MMIO bus.
 * @lock: the transport's state below, and the interrupt lines.
 * @cfg: PCI configuration space.
 * @wmask: writable bits of @cfg (the BAR and MSI-X enable are special).
 * @claimed: BAR 0 is claimed on the bus at @base.
 * @base: GPA of the claim.
 * @gsi: INTx GSI.
 * @intx: the INTx line is asserted.
 * @features: offered feature bits.
 * @driver_features: accepted feature bits.
 * @dfselect: device_feature_select.
 * @gfselect: driver_feature_select.
 * @msix_config: configuration-change vector.
 * @queue_select: selected queue.
 * @status: device_status.
 * @isr: ISR status (bit 0 queue, bit 1 configuration).
 * @nvqs: queues.
 * @qmax: the queue size offered (Queue Size at a reset, the largest the
 *	driver may choose), a power of two up to HVX_VQ_MAX_SIZE; set by the
 *	type before hvx_virtio_init().
 * @vqs: the queues.
 * @msix_table: MSI-X table: address low, high, data, vector control.
 * @msix_pba: pending bits.
 * @devcfg: the device-specific configuration (little-endian bytes).
 * @devcfg_len: its length.
 * @worker: the kernel thread that serves the queues.
 * @kick: queues notified and not yet served, a bit each.
 * @busy: the worker is serving queues (under @lock); set before it takes
 *	@kick, so that no kick and not @busy means nothing is in flight.
 * @idle: woken when @busy goes false.
 * @chain: the worker's chain buffer.
 * @itable: the worker's copy of the indirect table it walks.
 * @nr_requests: requests served.
 * @nr_bytes: data bytes moved.
 * @nr_notifies: queue notifications.
 * @nr_irqs: interrupts sent.
 * @nr_errors: requests failed and queues stopped.
 */
struct hvx_virtio {
	struct list_head node;
	struct hvx_vm *vm;
	const struct hvx_virtio_ops *ops;
	struct hvx_pci_dev pci;
	struct hvx_io_dev mmio;
	struct mutex lock;	/* transport state */
	u8 cfg[256];
	u8 wmask[256];
	bool claimed;
	u64 base;
	u8 gsi;
	bool intx;
	u64 features;
	u64 driver_features;
	u32 dfselect, gfselect;
	u16 msix_config;
	u16 queue_select;
	u8 status;
	u8 isr;
	u16 nvqs;
	u16 qmax;
	struct hvx_vq vqs[HVX_VIRTIO_MAX_VQS];
	u32 msix_table[HVX_VIRTIO_MSIX_VECS][4];
	unsigned long msix_pba;
	const void *devcfg;
	unsigned int devcfg_len;
	struct task_struct *worker;
	unsigned long kick;
	bool busy;
	wait_queue_head_t idle;
	struct hvx_vq_chain chain;
	union {
		struct vring_desc split[HVX_VQ_MAX_SIZE];
		struct vring_packed_desc packed[HVX_VQ_MAX_SIZE];
	} itable;
	atomic64_t nr_requests, nr_bytes, nr_notifies, nr_irqs, nr_errors;
};

/* virtio_pci.c */
int hvx_virtio_init(struct hvx_virtio *d, struct hvx_vm *vm,
		    const struct hvx_virtio_device *a,
		    const struct hvx_virtio_ops *ops, u64 features);
int hvx_virtio_add(struct hvx_virtio *d, const struct hvx_virtio_device *a);
void hvx_virtio_discard(struct hvx_virtio *d);
void hvx_virtio_fail(struct hvx_virtio *d, unsigned int q, const char *why);
void hvx_virtio_kick(struct hvx_virtio *d, unsigned int q);
long hvx_virtio_create(struct hvx_vm *vm, const struct hvx_virtio_device *a);
void hvx_virtio_vm_destroy(struct hvx_vm *vm);
struct sk_buff;
int hvx_virtio_put_stats(struct sk_buff *skb, struct hvx_vm *vm);

/**
 * struct hvx_virtio_list - a VM's virtio devices, for save and restore
 * @n: entries of @d used.
 * @d: the devices, in creation order (one per PCI slot at most).
 */
struct hvx_virtio_list {
	unsigned int n;
	struct hvx_virtio *d[32];
};

int hvx_virtio_collect(struct hvx_vm *vm, struct hvx_virtio_list *l);
int hvx_virtio_drain(const struct hvx_virtio_list *l);
void hvx_virtio_resume(const struct hvx_virtio_list *l);
u32 hvx_virtio_get_state(const struct hvx_virtio_list *l, void *buf);
int hvx_virtio_check_state(const struct hvx_virtio_list *l,
			   const struct hvx_state_virtio *s, const void *ext);
void hvx_virtio_set_state(const struct hvx_virtio_list *l,
			  const struct hvx_state_virtio *s, const void *ext);

/* virtqueue.c */
int hvx_vq_pop(struct hvx_virtio *d, struct hvx_vq *vq,
	       struct hvx_vq_chain *c);
int hvx_vq_push(struct hvx_virtio *d, struct hvx_vq *vq, u16 head, u32 len);
int hvx_vq_push_n(struct hvx_virtio *d, struct hvx_vq *vq, const u16 *heads,
		  const u32 *lens, unsigned int n);
int hvx_vq_need_irq(struct hvx_virtio *d, struct hvx_vq *vq);
int hvx_vq_arm(struct hvx_virtio *d, struct hvx_vq *vq);
void hvx_vq_unpop(struct hvx_vq *vq, u16 n);
int hvx_vq_copy(struct hvx_virtio *d, const struct hvx_vq_chain *c,
		bool write, u64 off, void *buf, u32 len);

/* virtio_blk.c */
long hvx_virtio_blk_create(struct hvx_vm *vm,
			   const struct hvx_virtio_device *a);

/* virtio_net.c */
long hvx_virtio_net_create(struct hvx_vm *vm,
			   const struct hvx_virtio_device *a);

#endif /* HVX_VIRTIO_H */
