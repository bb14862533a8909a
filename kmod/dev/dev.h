/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dev.h - the hypervisor-direct platform: in-kernel devices of a VM, the
 * port and MMIO bus they sit on, and the interrupt router between them.
 *
 * Exits reach devices through struct hvx_vmx_dev_ops (vmx/vmx.h), which
 * bus.c implements: one lookup per access, no claim means an exit to
 * userspace. Devices raise interrupts through the router (irq.c), which
 * feeds the PIC, the IOAPIC and the local APICs and kicks the vCPU that
 * must take the interrupt.
 */
#ifndef HVX_DEV_H
#define HVX_DEV_H

#include <linux/srcu.h>
#include <linux/types.h>

struct hvx_vm;
struct hvx_vcpu;
struct hvx_io_dev;

/* The two address spaces a device can claim ranges in. */
enum hvx_bus_space {
	HVX_BUS_PIO,	/* I/O ports, 0 .. 0xffff */
	HVX_BUS_MMIO,	/* guest-physical addresses outside RAM slots */
	HVX_NR_BUS_SPACES,
};

/**
 * struct hvx_io_dev_ops - what a device does with an access to its range
 * @read: fill *@val (the low @size bytes; the rest is ignored) for a read
 *	of @size bytes (1, 2, 4 or 8) at absolute address @addr.
 * @write: take the low @size bytes of @val written at @addr.
 *
 * Called by the accessing vCPU's thread (@vcpu), in process context,
 * inside an SRCU read section of the bus: may sleep, must not take
 * vm->lock. Devices serialise their own state (several vCPUs may access
 * the same device at once). Both return 0; a device cannot refuse an
 * access it claimed (a real bus would not either).
 */
struct hvx_io_dev_ops {
	int (*read)(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 addr,
		    u8 size, u64 *val);
	int (*write)(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 addr,
		     u8 size, u64 val);
};

/**
 * struct hvx_io_dev - a device on the bus; embed it in the device's state
 * @ops: its access callbacks.
 */
struct hvx_io_dev {
	const struct hvx_io_dev_ops *ops;
};

struct hvx_bus_table;

/**
 * struct hvx_dev_bus - the port and MMIO claims of one VM
 * @srcu: protects readers of @table (the exit path); registration waits
 *	for them with synchronize_srcu().
 * @table: sorted, non-overlapping claims per address space; replaced
 *	whole under vm->lock.
 * @pio_claimed: one bit per port, set while some device claims it (set
 *	before a table with the claim is published, cleared after one
 *	without it is), so a port access with its bit clear goes to
 *	userspace without a search; changed under vm->lock.
 */
struct hvx_dev_bus {
	struct srcu_struct srcu;
	struct hvx_bus_table __rcu *table[HVX_NR_BUS_SPACES];
	unsigned long *pio_claimed;
};

/**
 * struct hvx_pio_fixed - a port range of a platform device, found without
 *	a walk of the bus (bus.c)
 * @base: first port.
 * @len: ports; 0 once the device unregistered.
 * @irqoff: the device's callbacks may run with interrupts off (they take
 *	spinlocks only), so the exit fast path may call them.
 * @dev: the device.
 */
struct hvx_pio_fixed {
	u16 base, len;
	bool irqoff;
	struct hvx_io_dev *dev;
};

#define HVX_PIO_FIXED	8	/* PIC 3, PIT 2, UART 1, RTC 1 ranges */

/* Platform devices, in creation order; opaque outside their files. */
struct hvx_pic;
struct hvx_pit;
struct hvx_uart;
struct hvx_rtc;
struct hvx_pci;
struct hvx_ioapic;
struct hvx_lapic;

/**
 * struct hvx_platform - the in-kernel devices of a VM (HVX_CREATE_PLATFORM)
 * @flags: HVX_PLATFORM_* devices that exist.
 * @pic: 8259A pair, or NULL.
 * @pit: 8254 PIT, or NULL.
 * @uart: 16550A at COM1, or NULL.
 * @rtc: MC146818 CMOS/RTC, or NULL.
 * @pci: PCI configuration mechanism #1 and bus 0, or NULL.
 * @ioapic: I/O APIC, or NULL.
 * @lapic_mmio: the xAPIC page at 0xfee00000, one claim for every local
 *	APIC of the VM (an access reaches the accessing vCPU's own).
 * @irqfds: eventfds bound with HVX_IRQFD (irqfd.c), allocated on first
 *	use, or NULL.
 * @apic_access_page: the APIC-access page EPT maps at 0xfee00000 when
 *	the VM's vCPUs virtualize APIC accesses (lapic.c), or NULL.
 * @apicv: HVX_APICV_* assists (vmx/vmx.h) the VM's local APICs use:
 *	APIC-register virtualization, virtual-interrupt delivery (lapic.c).
 * @apic_access_map: the GPA of @apic_access_page, reserved in the VM's
 *	memory (hvx_mem_map_private()) so that no RAM slot covers it.
 * @pio: the port ranges of the platform devices, looked up before the
 *	bus's table (hvx_bus_register_fixed()); filled while the devices are
 *	created, before any vCPU exists, and left alone while vCPUs run.
 * @npio: entries used in @pio.
 *
 * Local APICs hang off their vCPUs (struct hvx_vcpu.lapic) when @flags
 * has HVX_PLATFORM_LAPIC. Set once, before any vCPU exists; freed with
 * the VM.
 */
struct hvx_platform {
	u32 flags;
	struct hvx_pic *pic;
	struct hvx_pit *pit;
	struct hvx_uart *uart;
	struct hvx_rtc *rtc;
	struct hvx_pci *pci;
	struct hvx_ioapic *ioapic;
	struct hvx_io_dev lapic_mmio;
	struct hvx_irqfds *irqfds;
	struct page *apic_access_page;
	u32 apicv;
	struct hvx_mmio_range apic_access_map;
	struct hvx_pio_fixed pio[HVX_PIO_FIXED];
	unsigned int npio;
};

/* bus.c */
int hvx_bus_init(struct hvx_vm *vm);
void hvx_bus_destroy(struct hvx_vm *vm);
int hvx_bus_register(struct hvx_vm *vm, enum hvx_bus_space space, u64 base,
		     u64 len, struct hvx_io_dev *dev);
void hvx_bus_unregister(struct hvx_vm *vm, struct hvx_io_dev *dev);
int hvx_bus_register_fixed(struct hvx_vm *vm, u16 base, u16 len,
			   struct hvx_io_dev *dev, bool irqoff);
int hvx_bus_move(struct hvx_vm *vm, enum hvx_bus_space space,
		 struct hvx_io_dev *dev, u64 base, u64 len);
void hvx_dev_vcpu_init(struct hvx_vcpu *vcpu);

/* platform.c */
long hvx_platform_create(struct hvx_vm *vm, u32 flags);
void hvx_platform_destroy(struct hvx_vm *vm);
int hvx_platform_vcpu_create(struct hvx_vcpu *vcpu);
void hvx_platform_vcpu_destroy(struct hvx_vcpu *vcpu);

/* irq.c: the interrupt router (HVX_NR_GSIS is in uapi/hvx.h) */
int hvx_irq_set_gsi(struct hvx_vm *vm, u32 gsi, int level);
int hvx_irq_pending(struct hvx_vcpu *vcpu);
int hvx_irq_ack(struct hvx_vcpu *vcpu, int vector, int *src);
void hvx_irq_pic_changed(struct hvx_vm *vm);
void hvx_irq_kick(struct hvx_vm *vm, u32 vcpu_id);
void hvx_irq_exit_guest_all(struct hvx_vm *vm);

/*
 * Device constructors and their interrupt-controller entry points. Each
 * lives in the file named after its hardware (pic.c, pit.c, ...).
 */
int hvx_pic_create(struct hvx_vm *vm);
void hvx_pic_destroy(struct hvx_vm *vm);
void hvx_pic_set_irq(struct hvx_vm *vm, unsigned int irq, int level);
int hvx_pic_pending(struct hvx_vm *vm);
int hvx_pic_ack(struct hvx_vm *vm);

int hvx_pit_create(struct hvx_vm *vm);
void hvx_pit_destroy(struct hvx_vm *vm);
int hvx_uart_create(struct hvx_vm *vm);
void hvx_uart_destroy(struct hvx_vm *vm);
long hvx_uart_console_fd(struct hvx_vm *vm, unsigned long arg);
int hvx_rtc_create(struct hvx_vm *vm);
void hvx_rtc_destroy(struct hvx_vm *vm);
struct hvx_cmos;
long hvx_rtc_cmos(struct hvx_vm *vm, struct hvx_cmos *c, bool set);
int hvx_pci_create(struct hvx_vm *vm);
void hvx_pci_destroy(struct hvx_vm *vm);

/* pci.c: devices on bus 0 behind configuration mechanism #1 */
struct hvx_pci_dev;

/**
 * struct hvx_pci_dev_ops - configuration-space accesses to a PCI function
 * @cfg_read: return the @size bytes (1, 2 or 4) at offset @off (0-255;
 *	@off + @size <= 256, never crossing a dword) of the function's
 *	configuration space, in the low bits of the result.
 * @cfg_write: take the low @size bytes of @val written at @off.
 *
 * Called by the vCPU thread that accesses 0xcfc-0xcff, in process context,
 * with the bus's mutex held (so calls to one function are serialised and
 * none runs after hvx_pci_remove_device() returns) and inside the port
 * bus's SRCU read section: the callbacks may sleep, but must not call
 * hvx_pci_add_device(), hvx_pci_remove_device(), hvx_bus_register() or
 * hvx_bus_unregister() themselves (defer such work, e.g. a BAR move, to
 * a workqueue or to the next HVX_RUN).
 */
struct hvx_pci_dev_ops {
	u32 (*cfg_read)(struct hvx_pci_dev *d, unsigned int off,
			unsigned int size);
	void (*cfg_write)(struct hvx_pci_dev *d, unsigned int off,
			  unsigned int size, u32 val);
};

/**
 * struct hvx_pci_dev - a PCI function on the VM's bus 0; embed it
 * @ops: its configuration-space callbacks.
 * @devfn: device << 3 | function, as in PCI_DEVFN(); set before
 *	hvx_pci_add_device() and left alone while registered.
 */
struct hvx_pci_dev {
	const struct hvx_pci_dev_ops *ops;
	u8 devfn;
};

int hvx_pci_add_device(struct hvx_vm *vm, struct hvx_pci_dev *d);
void hvx_pci_remove_device(struct hvx_vm *vm, struct hvx_pci_dev *d);

int hvx_ioapic_create(struct hvx_vm *vm);
void hvx_ioapic_destroy(struct hvx_vm *vm);
void hvx_ioapic_set_irq(struct hvx_vm *vm, unsigned int gsi, int level);

int hvx_lapic_create(struct hvx_vcpu *vcpu);
void hvx_lapic_destroy(struct hvx_vcpu *vcpu);
int hvx_lapic_pending(struct hvx_vcpu *vcpu);
void hvx_lapic_get_state(struct hvx_vcpu *vcpu, struct hvx_lapic_state *state);
int hvx_lapic_ack(struct hvx_vcpu *vcpu, int vector);

/*
 * Interrupt controllers and routing (lapic.c, ioapic.c, irq.c, irqfd.c).
 */

/* APIC delivery modes (SDM Vol. 3A 11.6.1, Figure 11-12). */
#define HVX_APIC_DM_FIXED	0
#define HVX_APIC_DM_LOWEST	1
#define HVX_APIC_DM_SMI		2
#define HVX_APIC_DM_NMI		4
#define HVX_APIC_DM_INIT	5
#define HVX_APIC_DM_SIPI	6
#define HVX_APIC_DM_EXTINT	7

/* Destination shorthands of the ICR (SDM Vol. 3A 11.6.1). */
#define HVX_APIC_DEST_NONE	0
#define HVX_APIC_DEST_SELF	1
#define HVX_APIC_DEST_ALL	2
#define HVX_APIC_DEST_OTHERS	3

/**
 * struct hvx_apic_irq - an interrupt message on the APIC bus
 * @dest: destination APIC id or logical destination.
 * @vector: vector (SIPI: start page).
 * @delivery: HVX_APIC_DM_*.
 * @logical: @dest is a logical destination (SDM Vol. 3A 11.6.2.2).
 * @level_trig: level-triggered (the LAPIC sets its TMR bit and sends an
 *	EOI to the IOAPIC for it).
 * @assert: the level bit of an INIT (0 with @level_trig is the obsolete
 *	INIT level de-assert, which does nothing).
 * @x2apic: @dest is a 32-bit x2APIC destination (IPIs from an APIC in
 *	x2APIC mode); else 8 bits, 0xff broadcast.
 * @shorthand: HVX_APIC_DEST_*; the others need @self.
 * @src: HVX_IRQ_SRC_* for the statistics.
 * @self: the sending vCPU for shorthands, else NULL.
 */
struct hvx_apic_irq {
	u32 dest;
	u8 vector;
	u8 delivery;
	bool logical;
	bool level_trig;
	bool assert;
	bool x2apic;
	u8 shorthand;
	u8 src;
	struct hvx_vcpu *self;
};

struct hvx_irqfds;

/**
 * struct hvx_irq_ack_notifier - told when the guest EOIs a level GSI
 * @link: in the VM's list (struct hvx_vm, @irq_ack_notifiers).
 * @acked: called with the GSI whose Remote IRR the EOI cleared, in
 *	process context (the vCPU's thread) under the VM's @irq_srcu, with
 *	no router or I/O APIC lock held; may sleep.
 *
 * The router's consumers (resample irqfds, passthrough INTx) register one
 * instead of being called by the I/O APIC by name, as KVM's
 * kvm_register_irq_ack_notifier().
 */
struct hvx_irq_ack_notifier {
	struct hlist_node link;
	void (*acked)(struct hvx_irq_ack_notifier *n, u32 gsi);
};

void hvx_irq_register_ack_notifier(struct hvx_vm *vm,
				   struct hvx_irq_ack_notifier *n);
void hvx_irq_unregister_ack_notifier(struct hvx_vm *vm,
				     struct hvx_irq_ack_notifier *n);
void hvx_irq_notify_ack(struct hvx_vm *vm, u32 gsi);

int hvx_lapic_vm_create(struct hvx_vm *vm);
void hvx_lapic_vm_destroy(struct hvx_vm *vm);
int hvx_lapic_deliver(struct hvx_vm *vm, const struct hvx_apic_irq *irq);
long hvx_lapic_pv_send_ipi(struct hvx_vcpu *src, const unsigned long *map,
			   unsigned int cluster, u64 min, u32 icr);
bool hvx_lapic_accepts_pic(struct hvx_vcpu *vcpu);

void hvx_ioapic_eoi(struct hvx_vm *vm, u8 vector);

int hvx_irq_msi_check(u32 address_lo, u32 address_hi, u32 data);
int hvx_irq_msi(struct hvx_vm *vm, u32 address_lo, u32 address_hi, u32 data,
		u8 src);
int hvx_irq_line(struct hvx_vm *vm, const struct hvx_irq_level *l);
int hvx_signal_msi(struct hvx_vm *vm, const struct hvx_msi *m);
void hvx_irq_destroy(struct hvx_vm *vm);

int hvx_irqfd(struct hvx_vm *vm, const struct hvx_irqfd *args);
void hvx_irqfd_release(struct hvx_vm *vm);

/*
 * Save and restore (vmstate.c): each device's state record. get fills
 * the payload (header and padding zeroed by the caller), check refuses a
 * bad one with -EINVAL and changes nothing, set applies a checked one.
 */
struct hvx_state_pic;
struct hvx_state_pit;
struct hvx_state_ioapic;
struct hvx_state_rtc;
struct hvx_state_uart;
struct hvx_state_pci;

int hvx_lapic_set_state(struct hvx_vcpu *vcpu, const struct hvx_lapic_state *s);
void hvx_pic_get_state(struct hvx_vm *vm, struct hvx_state_pic *s);
int hvx_pic_check_state(struct hvx_vm *vm, const struct hvx_state_pic *s);
void hvx_pic_set_state(struct hvx_vm *vm, const struct hvx_state_pic *s);
void hvx_pit_get_state(struct hvx_vm *vm, struct hvx_state_pit *s);
int hvx_pit_check_state(struct hvx_vm *vm, const struct hvx_state_pit *s);
void hvx_pit_set_state(struct hvx_vm *vm, const struct hvx_state_pit *s);
void hvx_ioapic_get_state(struct hvx_vm *vm, struct hvx_state_ioapic *s);
int hvx_ioapic_check_state(struct hvx_vm *vm,
			   const struct hvx_state_ioapic *s);
void hvx_ioapic_set_state(struct hvx_vm *vm, const struct hvx_state_ioapic *s);
void hvx_rtc_get_state(struct hvx_vm *vm, struct hvx_state_rtc *s);
int hvx_rtc_check_state(struct hvx_vm *vm, const struct hvx_state_rtc *s);
void hvx_rtc_set_state(struct hvx_vm *vm, const struct hvx_state_rtc *s);
unsigned int hvx_uart_get_state(struct hvx_vm *vm, struct hvx_state_uart *s);
int hvx_uart_check_state(struct hvx_vm *vm, const struct hvx_state_uart *s);
void hvx_uart_set_state(struct hvx_vm *vm, const struct hvx_state_uart *s);
void hvx_pci_get_state(struct hvx_vm *vm, struct hvx_state_pci *s);
int hvx_pci_check_state(struct hvx_vm *vm, const struct hvx_state_pci *s);
void hvx_pci_set_state(struct hvx_vm *vm, const struct hvx_state_pci *s);

#endif /* HVX_DEV_H */
