/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pt.h - inside the iommu/ room: PCI passthrough objects shared by its
 * files. kmod/ sees only iommu.h.
 *
 *   owner.c   stub driver, device lookup, viability, assign/unassign
 *   domain.c  the per-VM IOMMU domain, fed by the memory listener
 *   config.c  virtualized config space
 *   intr.c    INTx, MSI and MSI-X of the host device
 *   devfd.c   the device fd: regions, mmap, interrupt eventfds
 *   guest.c   the guest's view: PCI bus 0 function, BARs in the EPT
 *   trap.c    BAR parts the guest reaches through the device bus: the
 *	       MSI-X table/PBA pages and I/O BARs moved off the host's ports
 */
#ifndef HVX_IOMMU_PT_H
#define HVX_IOMMU_PT_H

#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>

#include "../ept/ept.h"
#include "../kmod/dev/dev.h"
#include "iommu.h"

#define HVX_PT_NR_BARS		PCI_STD_NUM_BARS	/* 6 */
#define HVX_PT_STUB_NAME	"hvx-pci"

struct hvx_pt_vm;
struct hvx_pt_dev;

/**
 * struct hvx_pt_resv - an IOVA range the IOMMU reserves for a group
 * @start: first address, bytes.
 * @last: last address (inclusive).
 * @type: enum iommu_resv_type (IOMMU_RESV_MSI: the interrupt window;
 *	IOMMU_RESV_DIRECT: an RMRR the firmware's DMA uses).
 */
struct hvx_pt_resv {
	u64 start;
	u64 last;
	int type;
};

/**
 * struct hvx_pt_group - an IOMMU group claimed by a VM
 * @node: in hvx_pt_vm.groups; added and removed under both
 *	hvx_pt_vm.lock and the VM's hvx_mem.lock, so either lock keeps the
 *	list stable (the memory listener holds only the latter).
 * @group: the group (a reference is held).
 * @nr_devs: devices of the VM in this group.
 * @resv: the group's reserved regions that guest RAM may not overlap
 *	(iommu_get_group_resv_regions() less the relaxable RMRRs, as VFIO).
 * @nr_resv: entries in @resv.
 */
struct hvx_pt_group {
	struct list_head node;
	struct iommu_group *group;
	unsigned int nr_devs;
	struct hvx_pt_resv *resv;
	unsigned int nr_resv;
};

/**
 * struct hvx_pt_ram - a RAM slot mapped in the VM's IOMMU domain
 * @node: in hvx_pt_vm.ram, under the VM's hvx_mem.lock.
 * @gpa: first guest-physical address (= IOVA), bytes.
 * @npages: 4 KiB pages.
 */
struct hvx_pt_ram {
	struct list_head node;
	u64 gpa;
	u64 npages;
};

/**
 * struct hvx_pt_vm - passthrough state of one VM
 * @host: the VM as kmod/ describes it (its memory, I/O bitmaps, id).
 * @vm: the VM (@host's), opaque: for the interrupt router and buses.
 * @lock: serialises assignment and release within the VM; taken after
 *	hvx_pt_mutex and before hvx_mem.lock.
 * @devs: assigned devices (struct hvx_pt_dev.vm_node).
 * @groups: claimed IOMMU groups (struct hvx_pt_group).
 * @domain: the VM's IOMMU domain, or NULL while no device behind an
 *	IOMMU is assigned.
 * @coherent: the IOMMU enforces snooping (IOMMU_CAP_CACHE_COHERENCY).
 * @listener: receives the VM's RAM slots while @domain exists.
 * @ram: the slots mapped in @domain (struct hvx_pt_ram), to check a group
 *	joining later against its reserved regions; under hvx_mem.lock.
 * @nr_faults: IOMMU faults reported for @domain.
 * @ack: on the VM's interrupt router from creation to destruction:
 *	hvx_pt_intx_eoi() on each EOI of a level-triggered GSI.
 */
struct hvx_pt_vm {
	struct hvx_pt_host *host;
	struct hvx_vm *vm;
	struct mutex lock;	/* assignment and release in this VM */
	struct list_head devs;
	struct list_head groups;
	struct iommu_domain *domain;
	bool coherent;
	struct hvx_mem_listener listener;
	struct list_head ram;
	atomic64_t nr_faults;
	struct hvx_irq_ack_notifier ack;
};

/**
 * struct hvx_pt_bar - one BAR of an assigned device
 * @size: bytes, 0 if the BAR is not implemented.
 * @host: host physical address or I/O port.
 * @flags: HVX_PCI_REGION_* flags.
 * @vbar: the BAR value the guest sees (address bits it wrote and the
 *	read-only type bits), low dword; for a 64-bit BAR the next BAR's
 *	@vbar holds the high dword.
 * @va: kernel mapping (pci_iomap()), for pread/pwrite.
 */
struct hvx_pt_bar {
	u64 size;
	u64 host;
	u32 flags;
	u32 vbar;
	void __iomem *va;
};

/**
 * struct hvx_pt_vec - one interrupt vector of the device as hvx set it up
 * @dev: its device.
 * @index: vector number (0 for INTx).
 * @irq: host IRQ number, 0 if not requested.
 * @trigger: eventfd signalled per interrupt, or NULL.
 * @name: IRQ name for /proc/interrupts.
 */
struct hvx_pt_vec {
	struct hvx_pt_dev *dev;
	unsigned int index;
	unsigned int irq;
	struct eventfd_ctx *trigger;
	char name[40];
};

/**
 * struct hvx_pt_trap - a part of a BAR that the guest reaches through the
 *	VM's device bus (kmod/dev/bus.c) instead of directly: each access is
 *	an exit handled in the kernel (trap.c), never one to userspace
 * @io: the claim's callbacks.
 * @dev: its device.
 * @bar: BAR index.
 * @space: HVX_BUS_MMIO for the MSI-X table and PBA pages of a memory BAR,
 *	HVX_BUS_PIO for an I/O BAR the guest moved off the host's ports.
 * @off: offset of the trapped part in the BAR, bytes or ports.
 * @len: its length; 0 if BAR @bar has no part to trap.
 * @gbase: guest-physical address or port of the part while @claimed.
 * @claimed: the claim is on the bus at @gbase.
 *
 * @gbase and @claimed change under the device's lock, which the
 * callbacks take too.
 */
struct hvx_pt_trap {
	struct hvx_io_dev io;
	struct hvx_pt_dev *dev;
	u8 bar;
	u8 space;
	u64 off;
	u64 len;
	u64 gbase;
	bool claimed;
};

/**
 * struct hvx_pt_dev - an assigned PCI device
 * @ref: references: the VM's list (until release) and the device fd.
 * @lock: serialises the device fd's calls and release; held while
 *	touching config space, BARs and interrupts.
 * @alive: false once released; every device fd call then fails.
 * @vm_node: in hvx_pt_vm.devs.
 * @global_node: in the module's list of assigned devices.
 * @ptvm: the owning VM's passthrough state (valid while @alive).
 * @pdev: the device (a reference is held).
 * @pt_group: its claimed IOMMU group, or NULL (no-IOMMU mode).
 * @saved: config space saved at assignment, restored at release.
 * @old_override: driver_override before assignment (kstrdup), or NULL.
 * @mapping: address space of the device fd, so that release can zap
 *	every BAR mapping (unmap_mapping_range()).
 * @map_lock: guards @user_map; taken by mmap and page faults of the
 *	device fd, under the caller's mmap_lock, and by release. A leaf
 *	lock: @lock (held while the EPT and with it the VM's memory lock
 *	are taken, which nests mmap_lock) is never taken under mmap_lock.
 * @user_map: BARs may be mapped and faulted in through the device fd.
 * @bars: the six BARs.
 * @vcmd: command register bits the guest owns (PCI_COMMAND_INTX_DISABLE).
 * @vline: interrupt line register.
 * @msi_cap: offset of the MSI capability, 0 if none.
 * @msi_vectors: MSI vectors the device supports.
 * @msi_ctrl_ro: read-only bits of the MSI message control (MMC, 64-bit,
 *	per-vector masking).
 * @msi_ctrl: guest view of the MSI message control (enable, MME).
 * @msi_addr: guest MSI address (64 bits).
 * @msi_data: guest MSI data.
 * @msi_mask: guest MSI mask bits (per-vector masking).
 * @msix_cap: offset of the MSI-X capability, 0 if none.
 * @msix_vectors: MSI-X table size.
 * @msix_ctrl: guest view of the MSI-X message control (enable, mask).
 * @msix_bar: BAR holding the table; @msix_table_off its offset there.
 * @msix_table_off: offset of the table in @msix_bar.
 * @msix_pba_bar: BAR holding the PBA; @msix_pba_off its offset there.
 * @msix_pba_off: offset of the PBA in @msix_pba_bar.
 * @msix_table: the guest's MSI-X table (4 dwords per entry); entries
 *	the handlers read (hvx_pt_gmsix_send()) change under @irq_lock.
 * @reset_works: the device has a reset method.
 * @irq_lock: protects @intx_masked against the interrupt handler.
 * @irq_type: HVX_PCI_IRQ_* in use.
 * @intx_maskable: INTx disable works (PCI 2.3); the line may be shared.
 * @intx_masked: hvx masked INTx after an interrupt.
 * @nr_vecs: entries of @vecs in use.
 * @vecs: the vectors.
 * @nr_irqs: interrupts received from the device.
 * @vpci: the function on the VM's PCI bus 0 (guest.c).
 * @on_bus: @vpci is on the bus.
 * @bar_map: EPT mappings of the memory BARs at the guest's addresses
 *	(of a BAR holding MSI-X structures, the part below their pages).
 * @bar_map_hi: of a BAR holding MSI-X structures, the part above their
 *	pages.
 * @traps: per BAR, the part reached through the device bus (trap.c).
 * @io_passed: the guest reaches I/O BAR i directly (its ports are clear
 *	in the VM's I/O bitmap).
 * @guest_intx: INTx is wired to @guest_gsi of the VM's I/O APIC
 *	(guest.c) instead of an eventfd; under @lock.
 * @guest_gsi: the GSI INTx drives while @guest_intx.
 * @guest_irqs: the interrupts in use were set up for the guest (INTx on a
 *	GSI or MSI to the LAPICs, guest.c), not by HVX_DEVICE_SET_IRQS.
 * @gmsi_addr: the guest's MSI address as the handler uses it; under
 *	@irq_lock.
 * @gmsi_data: the guest's MSI data; under @irq_lock.
 * @gmsi_mask: the guest's per-vector MSI mask bits; under @irq_lock.
 * @gmsi_pending: vectors that fired while masked (PCI 3.0 6.8.1.7); under
 *	@irq_lock.
 * @gmsix_pending: guest MSI-X vectors (0-31) that fired while masked by
 *	their Mask bit or the Function Mask, as the emulated PBA shows them
 *	(PCI 3.0 6.8.2.10); under @irq_lock.
 * @noncoherent: the device's DMA is not snooped for sure (no IOMMU, or
 *	one without IOMMU_CAP_CACHE_COHERENCY) and counts in the VM's
 *	hvx_mem.nr_noncoherent while it is attached.
 * @nr_remaps: EPT maps and unmaps of BAR pieces, and host vector set-ups
 *	and teardowns for the guest's MSI/MSI-X, done so far; under @lock.
 * @remap_end: end (jiffies) of the current window of the guest's remap
 *	budget, 0 before the first; under @lock.
 * @remap_budget: remaps the guest may still cause in this window without
 *	being slowed down (guest.c); under @lock.
 */
struct hvx_pt_dev {
	struct kref ref;
	struct mutex lock;	/* the fd's calls and release */
	bool alive;
	struct list_head vm_node;
	struct list_head global_node;
	struct hvx_pt_vm *ptvm;
	struct pci_dev *pdev;
	struct hvx_pt_group *pt_group;
	struct pci_saved_state *saved;
	const char *old_override;
	struct address_space mapping;
	struct mutex map_lock;	/* @user_map; a leaf under mmap_lock */
	bool user_map;
	struct hvx_pt_bar bars[HVX_PT_NR_BARS];
	u16 vcmd;
	u8 vline;

	u8 msi_cap;
	u8 msi_vectors;
	u16 msi_ctrl_ro;
	u16 msi_ctrl;
	u64 msi_addr;
	u16 msi_data;
	u32 msi_mask;

	u8 msix_cap;
	u16 msix_vectors;
	u16 msix_ctrl;
	u8 msix_bar;
	u32 msix_table_off;
	u8 msix_pba_bar;
	u32 msix_pba_off;
	u32 *msix_table;

	bool reset_works;

	spinlock_t irq_lock;	/* @intx_masked vs. the IRQ handler */
	u32 irq_type;
	bool intx_maskable;
	bool intx_masked;
	unsigned int nr_vecs;
	struct hvx_pt_vec vecs[HVX_PCI_MAX_IRQ_FDS];
	atomic64_t nr_irqs;

	struct hvx_pci_dev vpci;
	bool on_bus;
	struct hvx_mmio_range bar_map[HVX_PT_NR_BARS];
	struct hvx_mmio_range bar_map_hi[HVX_PT_NR_BARS];
	struct hvx_pt_trap traps[HVX_PT_NR_BARS];
	bool io_passed[HVX_PT_NR_BARS];
	bool guest_intx;
	u32 guest_gsi;
	bool guest_irqs;
	u64 gmsi_addr;
	u16 gmsi_data;
	u32 gmsi_mask;
	u32 gmsi_pending;
	u32 gmsix_pending;
	bool noncoherent;
	u64 nr_remaps;
	unsigned long remap_end;
	unsigned int remap_budget;
};

extern struct mutex hvx_pt_mutex;
extern bool hvx_pt_allow_unsafe_noiommu;

/* owner.c */
int hvx_pt_stub_register(void);
void hvx_pt_stub_unregister(void);
void hvx_pt_dev_put(struct hvx_pt_dev *dev);
int hvx_pt_dev_reset(struct hvx_pt_dev *dev);

/* domain.c */
int hvx_pt_domain_attach(struct hvx_pt_vm *ptvm, struct hvx_pt_dev *dev,
			 struct iommu_group *group);
void hvx_pt_domain_detach(struct hvx_pt_vm *ptvm, struct hvx_pt_dev *dev);

/* config.c */
int hvx_pt_config_init(struct hvx_pt_dev *dev);
void hvx_pt_config_exit(struct hvx_pt_dev *dev);
int hvx_pt_config_read(struct hvx_pt_dev *dev, unsigned int off,
		       unsigned int len, u32 *val);
int hvx_pt_config_write(struct hvx_pt_dev *dev, unsigned int off,
			unsigned int len, u32 val);
u64 hvx_pt_bar_guest_addr(struct hvx_pt_dev *dev, int i);
bool hvx_pt_bar_in_msix(struct hvx_pt_dev *dev, int bar, u64 off, u64 len,
			u64 *start, u64 *size);
int hvx_pt_msix_table_rw(struct hvx_pt_dev *dev, int bar, u64 off,
			 unsigned int len, u64 *val, bool write);

/* intr.c */
int hvx_pt_irq_set(struct hvx_pt_dev *dev, const struct hvx_pci_irqs *req);
void hvx_pt_irq_disable(struct hvx_pt_dev *dev);
int hvx_pt_intx_unmask(struct hvx_pt_dev *dev);
int hvx_pt_intx_to_gsi(struct hvx_pt_dev *dev, u32 gsi);
void hvx_pt_intx_eoi(struct hvx_irq_ack_notifier *n, u32 gsi);
int hvx_pt_msi_to_guest(struct hvx_pt_dev *dev, unsigned int count);
void hvx_pt_gmsi_send(struct hvx_pt_dev *dev, unsigned int index);
int hvx_pt_msix_to_guest(struct hvx_pt_dev *dev);
void hvx_pt_gmsix_send(struct hvx_pt_dev *dev, unsigned int index);
void hvx_pt_gmsix_flush(struct hvx_pt_dev *dev);

/* guest.c */
int hvx_pt_guest_attach(struct hvx_pt_dev *dev);
void hvx_pt_guest_detach(struct hvx_pt_dev *dev);
void hvx_pt_guest_sync(struct hvx_pt_dev *dev);
void hvx_pt_guest_irq_init(struct hvx_pt_dev *dev);

/* trap.c */
void hvx_pt_traps_init(struct hvx_pt_dev *dev);
void hvx_pt_trap_sync(struct hvx_pt_dev *dev, int bar, bool want);
void hvx_pt_traps_unregister(struct hvx_pt_dev *dev);

/* devfd.c */
int hvx_pt_bar_rw(struct hvx_pt_dev *dev, int bar, u64 off, unsigned int len,
		  u64 *val, bool write);
struct file *hvx_pt_devfd_create(struct hvx_pt_dev *dev);
void hvx_pt_devfd_allow(struct hvx_pt_dev *dev);
void hvx_pt_devfd_revoke(struct hvx_pt_dev *dev);

#endif /* HVX_IOMMU_PT_H */
