// SPDX-License-Identifier: GPL-2.0
/*
 * stubs.c - devices that do not exist yet: creating them fails with
 * -EOPNOTSUPP. Each entry goes away when its device's file lands.
 */
#include "../hvx_core.h"
#include "dev.h"

int hvx_ioapic_create(struct hvx_vm *vm) { return -EOPNOTSUPP; }
void hvx_ioapic_destroy(struct hvx_vm *vm) { }
void hvx_ioapic_set_irq(struct hvx_vm *vm, unsigned int gsi, int level) { }

int hvx_lapic_create(struct hvx_vcpu *vcpu) { return -EOPNOTSUPP; }
void hvx_lapic_destroy(struct hvx_vcpu *vcpu) { }
int hvx_lapic_pending(struct hvx_vcpu *vcpu) { return -1; }
int hvx_lapic_ack(struct hvx_vcpu *vcpu, int vector) { return HVX_IRQ_SRC_LAPIC; }
