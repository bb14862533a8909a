// SPDX-License-Identifier: GPL-2.0
/*
 * vmstate.c - HVX_GET_VM_STATE and HVX_SET_VM_STATE: the in-kernel
 * devices' state as a sequence of self-describing records (struct
 * hvx_state_header: type, version, size), one per device. Each device
 * file has the get/check/set functions of its record; this file frames,
 * parses and dispatches them. A SET checks every record before it
 * applies any, and only while no vCPU runs. Virtio devices (dev/virtio.h)
 * have one record each, its instance the device's devfn; their requests
 * in flight are completed before a GET or SET, with the vCPUs stopped.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvx_core.h"
#include "dev/dev.h"
#include "dev/virtio.h"

#define STATE_VERSION	1	/* of every record type so far */

/*
 * The record types in the order GET writes and SET applies them: the
 * interrupt controllers before the devices whose lines drive them.
 */
static const struct {
	u16 type;
	u32 dev;	/* HVX_PLATFORM_* */
	u32 size;	/* the record's size; UART: without the ring */
} state_types[] = {
	{ HVX_STATE_PIC, HVX_PLATFORM_PIC, sizeof(struct hvx_state_pic) },
	{ HVX_STATE_IOAPIC, HVX_PLATFORM_IOAPIC,
	  sizeof(struct hvx_state_ioapic) },
	{ HVX_STATE_PIT, HVX_PLATFORM_PIT, sizeof(struct hvx_state_pit) },
	{ HVX_STATE_RTC, HVX_PLATFORM_RTC, sizeof(struct hvx_state_rtc) },
	{ HVX_STATE_UART, HVX_PLATFORM_UART, sizeof(struct hvx_state_uart) },
	{ HVX_STATE_PCI, HVX_PLATFORM_PCI, sizeof(struct hvx_state_pci) },
};

#define NR_STATE_TYPES	ARRAY_SIZE(state_types)

/*
 * The PCI bus's lock comes before vm->lock (a configuration write may
 * move a BAR, hvx_bus_move()): its record is read, checked and loaded
 * with vm->lock dropped, the vCPUs stopped.
 */
static bool unlocked_type(int i)
{
	return state_types[i].type == HVX_STATE_PCI;
}

#define NR_SLOTS	32	/* virtio records, one per PCI slot at most */

static void state_sizes_check(void)
{
	BUILD_BUG_ON(sizeof(struct hvx_state_header) != 16);
	BUILD_BUG_ON(sizeof(struct hvx_state_pic) % 8);
	BUILD_BUG_ON(sizeof(struct hvx_state_pit) % 8);
	BUILD_BUG_ON(sizeof(struct hvx_state_ioapic) % 8);
	BUILD_BUG_ON(sizeof(struct hvx_state_rtc) % 8);
	BUILD_BUG_ON(sizeof(struct hvx_state_uart) % 8);
	BUILD_BUG_ON(sizeof(struct hvx_state_pci) % 8);
	BUILD_BUG_ON(sizeof(struct hvx_state_virtio_net) % 8);
	BUILD_BUG_ON(sizeof(struct hvx_state_uart) + HVX_UART_RING_SIZE +
		     sizeof(struct hvx_state_pic) + sizeof(struct hvx_state_pit) +
		     sizeof(struct hvx_state_ioapic) + sizeof(struct hvx_state_rtc) +
		     sizeof(struct hvx_state_pci) +
		     NR_SLOTS * (sizeof(struct hvx_state_virtio) +
				 sizeof(struct hvx_state_virtio_net)) >
		     HVX_VM_STATE_MAX_SIZE);
}

/* One device's record at @hdr (zeroed); returns its size. */
static u32 state_get_one(struct hvx_vm *vm, u16 type,
			 struct hvx_state_header *hdr)
{
	u32 size = 0;

	switch (type) {
	case HVX_STATE_PIC:
		hvx_pic_get_state(vm, (void *)hdr);
		size = sizeof(struct hvx_state_pic);
		break;
	case HVX_STATE_IOAPIC:
		hvx_ioapic_get_state(vm, (void *)hdr);
		size = sizeof(struct hvx_state_ioapic);
		break;
	case HVX_STATE_PIT:
		hvx_pit_get_state(vm, (void *)hdr);
		size = sizeof(struct hvx_state_pit);
		break;
	case HVX_STATE_RTC:
		hvx_rtc_get_state(vm, (void *)hdr);
		size = sizeof(struct hvx_state_rtc);
		break;
	case HVX_STATE_UART:
		size = hvx_uart_get_state(vm, (void *)hdr);
		break;
	case HVX_STATE_PCI:
		hvx_pci_get_state(vm, (void *)hdr);
		size = sizeof(struct hvx_state_pci);
		break;
	}
	hdr->type = type;
	hdr->version = STATE_VERSION;
	hdr->size = size;
	return size;
}

/*
 * The platform devices' records into @buf, those whose lock comes before
 * vm->lock (@unlocked) or the others; returns their size.
 */
static u32 state_get_platform(struct hvx_vm *vm, u8 *buf, bool unlocked)
{
	u32 len = 0;
	int i;

	for (i = 0; i < NR_STATE_TYPES; i++)
		if ((vm->plat->flags & state_types[i].dev) &&
		    unlocked_type(i) == unlocked)
			len += state_get_one(vm, state_types[i].type,
					     (void *)(buf + len));
	return len;
}

/*
 * What a GET or SET holds across dropping vm->lock: the vCPUs whose run
 * locks it took (a vCPU created meanwhile is not among them) and the
 * virtio devices it works on.
 */
struct state_ctx {
	struct hvx_vcpu *held[HVX_MAX_VCPUS];
	struct hvx_virtio_list virtio;
};

/*
 * Take every vCPU's run lock without waiting, so that none runs while the
 * devices change under it. vm->lock held (no vCPU comes or goes).
 * Return: true, or false with none held if a vCPU is running.
 */
static bool state_stop_vcpus(struct hvx_vm *vm, struct state_ctx *c)
{
	int i;

	lockdep_assert_held(&vm->lock);
	for (i = 0; i < HVX_MAX_VCPUS; i++) {
		c->held[i] = vm->vcpus[i];
		if (c->held[i] && !mutex_trylock(&c->held[i]->run_lock))
			break;
	}
	if (i == HVX_MAX_VCPUS)
		return true;
	while (i--)
		if (c->held[i])
			mutex_unlock(&c->held[i]->run_lock);
	return false;
}

static void state_release_vcpus(struct state_ctx *c)
{
	int i;

	for (i = HVX_MAX_VCPUS - 1; i >= 0; i--)
		if (c->held[i])
			mutex_unlock(&c->held[i]->run_lock);
}

/**
 * hvx_vm_get_state - HVX_GET_VM_STATE: write the devices' records
 * @vm: the VM.
 * @a: the request, reserved fields checked by the dispatcher.
 *
 * The records are built in a kernel buffer and copied out after the
 * locks are dropped (the user buffer may fault): the platform devices'
 * under vm->lock, the PCI bus's and the virtio devices' under their own
 * locks (which come before vm->lock), with every vCPU's run lock held
 * (trylock) from before their requests in flight complete until the
 * records are read.
 * Context: process context; takes vm->lock (the ioctl's lock class is
 * HVX_IOC_LOCK_NONE), the vCPUs' run locks and each device's lock in
 * turn; may wait for the virtio workers.
 * Return: the bytes written (or needed, for @a->size 0), or -EINVAL,
 * -ENOSPC, -EOPNOTSUPP, -EBUSY, -EINTR, -ENODEV, -ENOMEM, -EFAULT (see
 * HVX_GET_VM_STATE).
 */
long hvx_vm_get_state(struct hvx_vm *vm, const struct hvx_vm_state *a)
{
	struct state_ctx *c = NULL;
	bool held = false, drained = false, got = false;
	u32 len = 0;
	u8 *buf;
	long ret;

	state_sizes_check();
	if (a->flags || a->size > HVX_VM_STATE_MAX_SIZE)
		return -EINVAL;
	if (hvx_pt_nr_devices(&vm->pt)) {
		pr_warn_ratelimited("VM %u: a passed-through device's state cannot be saved\n",
				    vm->id);
		return -EOPNOTSUPP;
	}
	buf = kvzalloc(HVX_VM_STATE_MAX_SIZE, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	mutex_lock(&vm->lock);
	ret = -ENODEV;
	if (!vm->plat || !vm->plat_ready)
		goto unlock;
	if (!list_empty(&vm->virtio)) {
		ret = -ENOMEM;
		c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
		if (!c)
			goto unlock;
		ret = hvx_virtio_collect(vm, &c->virtio);
		if (ret)
			goto unlock;
		ret = -EBUSY;
		held = state_stop_vcpus(vm, c);
		if (!held)
			goto unlock;
		/*
		 * The drain waits for the workers, which take the devices'
		 * locks and vm->lock after them; what it sends reaches the
		 * platform records, read after it.
		 */
		mutex_unlock(&vm->lock);
		ret = hvx_virtio_drain(&c->virtio);
		drained = true;
		mutex_lock(&vm->lock);
		if (ret)
			goto unlock;
	}
	len = state_get_platform(vm, buf, false);
	ret = len;
	got = true;
unlock:
	mutex_unlock(&vm->lock);
	/*
	 * The PCI and virtio records take locks that come before vm->lock.
	 * vm->plat stays once ready; the order of the records is kept.
	 */
	if (got) {
		len += state_get_platform(vm, buf + len, true);
		ret = len;
	}
	if (got && c) {
		len += hvx_virtio_get_state(&c->virtio, buf + len);
		ret = len;
	}
	if (drained)
		hvx_virtio_resume(&c->virtio);
	if (held)
		state_release_vcpus(c);
	kfree(c);
	if (ret > 0 && a->size) {
		if (a->size < len)
			ret = -ENOSPC;
		else if (copy_to_user(u64_to_user_ptr(a->addr), buf, len))
			ret = -EFAULT;
	}
	kvfree(buf);
	return ret;
}

/*
 * Split @buf into records, one pointer per type in state_types order and
 * one per PCI slot for the virtio records and for the device types' own.
 * Return: 0, or -EINVAL for a truncated record, a size below the header
 * or not a multiple of 8, an unknown type or version, a bad instance, a
 * nonzero reserved field, a type (or virtio instance) given twice, a size
 * that is not the type's, a device type's record without its virtio one.
 */
static int state_parse(const u8 *buf, u32 size,
		       const struct hvx_state_header **recs,
		       const struct hvx_state_virtio **vrecs,
		       const struct hvx_state_header **erecs)
{
	u32 off = 0;
	int i;

	while (off < size) {
		const struct hvx_state_header *h = (const void *)(buf + off);

		if (size - off < sizeof(*h) || h->size < sizeof(*h) ||
		    h->size % 8 || h->size > size - off ||
		    h->version != STATE_VERSION || h->reserved)
			return -EINVAL;
		if (h->type == HVX_STATE_VIRTIO) {
			/* instance: the devfn of function 0 of slot 1-31 */
			u32 slot = h->instance >> 3;

			if (h->size != sizeof(struct hvx_state_virtio) ||
			    (h->instance & 7) || !slot || slot >= NR_SLOTS ||
			    vrecs[slot])
				return -EINVAL;
			vrecs[slot] = (const void *)h;
			off += h->size;
			continue;
		}
		if (h->type == HVX_STATE_VIRTIO_NET) {
			u32 slot = h->instance >> 3;

			if (h->size != sizeof(struct hvx_state_virtio_net) ||
			    (h->instance & 7) || !slot || slot >= NR_SLOTS ||
			    erecs[slot])
				return -EINVAL;
			erecs[slot] = h;
			off += h->size;
			continue;
		}
		if (h->instance)
			return -EINVAL;
		for (i = 0; i < NR_STATE_TYPES; i++)
			if (state_types[i].type == h->type)
				break;
		if (i == NR_STATE_TYPES || recs[i])
			return -EINVAL;
		if (h->type == HVX_STATE_UART ? h->size < state_types[i].size :
						h->size != state_types[i].size)
			return -EINVAL;
		recs[i] = h;
		off += h->size;
	}
	for (i = 0; i < NR_SLOTS; i++)
		if (erecs[i] && !vrecs[i])
			return -EINVAL;
	return 0;
}

static int state_check_one(struct hvx_vm *vm, const struct hvx_state_header *h)
{
	switch (h->type) {
	case HVX_STATE_PIC:
		return hvx_pic_check_state(vm, (const void *)h);
	case HVX_STATE_IOAPIC:
		return hvx_ioapic_check_state(vm, (const void *)h);
	case HVX_STATE_PIT:
		return hvx_pit_check_state(vm, (const void *)h);
	case HVX_STATE_RTC:
		return hvx_rtc_check_state(vm, (const void *)h);
	case HVX_STATE_UART:
		return hvx_uart_check_state(vm, (const void *)h);
	case HVX_STATE_PCI:
		return hvx_pci_check_state(vm, (const void *)h);
	}
	return -EINVAL;
}

static void state_set_one(struct hvx_vm *vm, const struct hvx_state_header *h)
{
	switch (h->type) {
	case HVX_STATE_PIC:
		hvx_pic_set_state(vm, (const void *)h);
		break;
	case HVX_STATE_IOAPIC:
		hvx_ioapic_set_state(vm, (const void *)h);
		break;
	case HVX_STATE_PIT:
		hvx_pit_set_state(vm, (const void *)h);
		break;
	case HVX_STATE_RTC:
		hvx_rtc_set_state(vm, (const void *)h);
		break;
	case HVX_STATE_UART:
		hvx_uart_set_state(vm, (const void *)h);
		break;
	case HVX_STATE_PCI:
		hvx_pci_set_state(vm, (const void *)h);
		break;
	}
}

/**
 * hvx_vm_set_state - HVX_SET_VM_STATE: load device records
 * @vm: the VM.
 * @a: the request, reserved fields checked by the dispatcher.
 *
 * Copies the whole buffer in, parses it, and with every vCPU's run lock
 * held (and the virtio devices' requests in flight completed) checks
 * each record against its device before any is applied, then applies
 * them in state_types order (under vm->lock; the PCI bus's under its own
 * lock, which comes before vm->lock), then the virtio records by slot
 * (under each device's lock, which also comes before vm->lock).
 * Context: process context; takes vm->lock (the ioctl's lock class is
 * HVX_IOC_LOCK_NONE), the vCPUs' run locks (trylock) and each device's
 * lock in turn; may wait for the virtio workers.
 * Return: 0, or -EINVAL, -EBUSY, -EINTR, -ENODEV, -EFAULT, -ENOMEM with
 * nothing changed (see HVX_SET_VM_STATE).
 */
long hvx_vm_set_state(struct hvx_vm *vm, const struct hvx_vm_state *a)
{
	const struct hvx_state_header *recs[NR_STATE_TYPES] = { };
	const struct hvx_state_virtio *vrecs[NR_SLOTS] = { };
	const struct hvx_state_header *erecs[NR_SLOTS] = { };
	struct state_ctx *c;
	bool virtio = false;
	u8 *buf;
	long ret;
	int i;

	if (a->flags || a->size > HVX_VM_STATE_MAX_SIZE)
		return -EINVAL;
	buf = kvmalloc(a->size ?: 1, GFP_KERNEL_ACCOUNT);
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	ret = -ENOMEM;
	if (!buf || !c)
		goto out;
	ret = -EFAULT;
	if (copy_from_user(buf, u64_to_user_ptr(a->addr), a->size))
		goto out;
	ret = state_parse(buf, a->size, recs, vrecs, erecs);
	if (ret)
		goto out;
	for (i = 0; i < NR_SLOTS; i++)
		virtio |= !!vrecs[i];
	mutex_lock(&vm->lock);
	ret = -ENODEV;
	if (!vm->plat || !vm->plat_ready)
		goto unlock;
	ret = -EINVAL;
	for (i = 0; i < NR_STATE_TYPES; i++)
		if (recs[i] && !(vm->plat->flags & state_types[i].dev))
			goto unlock;
	if (virtio && hvx_virtio_collect(vm, &c->virtio))
		goto unlock;	/* a device with no record type */
	ret = -EBUSY;
	if (!state_stop_vcpus(vm, c))
		goto unlock;
	/*
	 * The virtio devices' locks and the PCI bus's come before
	 * vm->lock: drain and check them without it. The vCPUs stay
	 * stopped, so nothing else loads state meanwhile (a concurrent GET
	 * or SET gets EBUSY).
	 */
	mutex_unlock(&vm->lock);
	ret = virtio ? hvx_virtio_drain(&c->virtio) : 0;
	for (i = 0; !ret && i < NR_SLOTS; i++)
		if (vrecs[i])
			ret = hvx_virtio_check_state(&c->virtio, vrecs[i],
						     erecs[i]);
	for (i = 0; !ret && i < NR_STATE_TYPES; i++)
		if (recs[i] && unlocked_type(i))
			ret = state_check_one(vm, recs[i]);
	mutex_lock(&vm->lock);
	if (ret)
		goto release;
	for (i = 0; i < NR_STATE_TYPES; i++) {
		ret = recs[i] && !unlocked_type(i) ?
		      state_check_one(vm, recs[i]) : 0;
		if (ret)
			goto release;
	}
	for (i = 0; i < NR_STATE_TYPES; i++)
		if (recs[i] && !unlocked_type(i))
			state_set_one(vm, recs[i]);
	mutex_unlock(&vm->lock);
	for (i = 0; i < NR_STATE_TYPES; i++)
		if (recs[i] && unlocked_type(i))
			state_set_one(vm, recs[i]);
	for (i = 0; i < NR_SLOTS; i++)
		if (vrecs[i])
			hvx_virtio_set_state(&c->virtio, vrecs[i], erecs[i]);
	if (virtio)
		hvx_virtio_resume(&c->virtio);
	state_release_vcpus(c);
	goto out;
release:
	if (virtio)
		hvx_virtio_resume(&c->virtio);
	state_release_vcpus(c);
unlock:
	mutex_unlock(&vm->lock);
out:
	kfree(c);
	kvfree(buf);
	return ret;
}
