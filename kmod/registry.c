// SPDX-License-Identifier: GPL-2.0
/*
 * registry.c - the module-wide table of VMs, for the netlink family.
 *
 * Every VM gets a small id at creation (an XArray, allocated cyclically so a
 * monitor does not mistake a new VM for one just destroyed) and is listed
 * here until vm_free(). One mutex protects the table and the VMs' place in
 * it. A VM found under that mutex stays valid until the mutex is dropped:
 * vm_free() takes it to remove the VM before freeing anything.
 *
 * Lock order: hvx_registry_lock() before a VM's vm->lock.
 */
#include <linux/mutex.h>
#include <linux/xarray.h>

#include "hvx_core.h"

static DEFINE_MUTEX(registry_lock);
static DEFINE_XARRAY_ALLOC1(registry_xa);
static u32 registry_next;	/* where the cyclic allocation goes on */

/**
 * hvx_registry_add - give a VM an id and list it
 * @vm: the VM, fully initialised (netlink readers may look at it at once).
 *
 * Context: process context, may sleep.
 * Return: 0 with @vm->id set, or -ENOMEM, or -ENOSPC when no id is left.
 */
int hvx_registry_add(struct hvx_vm *vm)
{
	u32 id;
	int ret;

	mutex_lock(&registry_lock);
	ret = xa_alloc_cyclic(&registry_xa, &id, vm, XA_LIMIT(1, INT_MAX),
			      &registry_next, GFP_KERNEL);
	if (ret >= 0)
		vm->id = id;
	mutex_unlock(&registry_lock);
	if (ret == -EBUSY)
		return -ENOSPC;
	return ret < 0 ? ret : 0;
}

/**
 * hvx_registry_remove - unlist a VM
 * @vm: a listed VM, about to be freed.
 *
 * After this returns no registry user can find @vm or is still using it.
 * The id may be reused later (after the others: allocation is cyclic).
 * Context: process context, may sleep; not under hvx_registry_lock().
 */
void hvx_registry_remove(struct hvx_vm *vm)
{
	mutex_lock(&registry_lock);
	xa_erase(&registry_xa, vm->id);
	mutex_unlock(&registry_lock);
}

/**
 * hvx_registry_lock - hold the registry: listed VMs stay allocated
 *
 * Context: process context, may sleep. Not while holding a vm->lock.
 */
void hvx_registry_lock(void)
{
	mutex_lock(&registry_lock);
}

/**
 * hvx_registry_unlock - release hvx_registry_lock()
 *
 * Context: the caller holds the registry; VMs found under it may be freed
 * as soon as this returns.
 */
void hvx_registry_unlock(void)
{
	mutex_unlock(&registry_lock);
}

/**
 * hvx_registry_find - the VM with a given id
 * @id: VM id.
 *
 * Context: hvx_registry_lock() held; the VM is valid until it is dropped.
 * Return: the VM, or NULL.
 */
struct hvx_vm *hvx_registry_find(u32 id)
{
	lockdep_assert_held(&registry_lock);
	if (!id || id > INT_MAX)
		return NULL;
	return xa_load(&registry_xa, id);
}

/**
 * hvx_registry_next - the listed VM with the smallest id >= *@id
 * @id: in: where to start; out: the id of the VM returned.
 *
 * Context: hvx_registry_lock() held; the VM is valid until it is dropped.
 * Return: the VM, or NULL when there is none.
 */
struct hvx_vm *hvx_registry_next(u32 *id)
{
	struct hvx_vm *vm;
	unsigned long next = *id;

	lockdep_assert_held(&registry_lock);
	if (*id > INT_MAX)
		return NULL;
	vm = xa_find(&registry_xa, &next, INT_MAX, XA_PRESENT);
	if (vm)
		*id = next;
	return vm;
}

/**
 * hvx_registry_exit - free the registry's memory at module unload
 *
 * Context: module exit; no VM exists (each holds a module reference).
 */
void hvx_registry_exit(void)
{
	WARN_ON(!xa_empty(&registry_xa));
	xa_destroy(&registry_xa);
}
