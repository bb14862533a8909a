/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_state.h - save and restore a vCPU or a VM's devices with the state
 * ioctls (uapi/hvx.h, "Saving and restoring state"), in the order the
 * ABI documents. For tests and tools alike: no harness, errors are
 * returned as -errno.
 */
#ifndef HVX_SELFTEST_STATE_H
#define HVX_SELFTEST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hvx.h"
#include "hvx_util.h"

/* Everything HVX_GET_* gives about one vCPU. */
struct vcpu_state {
	struct hvx_regs regs;
	struct hvx_sregs sregs;
	struct hvx_xcrs xcrs;
	struct hvx_xsave xsave;
	struct hvx_msrs msrs;
	struct hvx_debugregs debugregs;
	struct hvx_vcpu_events events;
	struct hvx_mp_state mp;
	struct hvx_lapic_state lapic;
	bool has_lapic;
};

int vcpu_state_save(struct vcpu *vcpu, struct vcpu_state *st);
int vcpu_state_restore(struct vcpu *vcpu, const struct vcpu_state *st);
ssize_t vm_state_save(struct vm *vm, void **buf);
int vm_state_restore(struct vm *vm, const void *buf, size_t len);

/* Any instance, for vm_state_record(): above every __u32 instance. */
#define VM_STATE_ANY	(1ull << 32)
void *vm_state_record(void *buf, size_t len, uint16_t type, uint64_t instance);

#endif /* HVX_SELFTEST_STATE_H */
