// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - the virtualized config space of an assigned device, as the
 * guest and the device fd see it (VFIO's model, in small).
 *
 * Virtualized: the BARs (the guest's addresses, sized by the device's
 * real BAR sizes; PCI Local Bus Spec 3.0, 6.2.5.1), the expansion ROM BAR
 * (hidden: reads 0), the interrupt line, command bit INTx Disable, BIST
 * (reads 0), the MSI capability's control, address, data and mask
 * registers (PCI 3.0, 6.8.1) and the MSI-X control bits enable and
 * function mask (6.8.2); the MSI-X table and PBA themselves are emulated
 * in memory (hvx_pt_msix_table_rw()).
 * The host programs the device's real MSI registers when it enables its
 * own vectors.
 * Written through: command bits I/O, memory, bus master, parity and
 * SERR; the RW1C error bits of status; cache line size and latency timer.
 * Everything else is read from the device and writes to it are dropped.
 */
#include <linux/slab.h>

#include "pt.h"

#define CMD_PASS	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | \
			 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
			 PCI_COMMAND_SERR)
#define STATUS_RW1C	(PCI_STATUS_DETECTED_PARITY | PCI_STATUS_SIG_SYSTEM_ERROR | \
			 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_REC_TARGET_ABORT | \
			 PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_PARITY)

/* MSI-X table entry: address low/high, data, vector control (6.8.2.6). */
#define MSIX_ENTRY_DWORDS	4

static bool msi_64(struct hvx_pt_dev *dev)
{
	return dev->msi_ctrl_ro & PCI_MSI_FLAGS_64BIT;
}

static bool msi_maskable(struct hvx_pt_dev *dev)
{
	return dev->msi_ctrl_ro & PCI_MSI_FLAGS_MASKBIT;
}

/* Offset of the MSI data register in the capability. */
static unsigned int msi_data_off(struct hvx_pt_dev *dev)
{
	return msi_64(dev) ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
}

static unsigned int msi_mask_off(struct hvx_pt_dev *dev)
{
	return msi_64(dev) ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
}

static unsigned int msi_len(struct hvx_pt_dev *dev)
{
	return msi_mask_off(dev) + (msi_maskable(dev) ? 8 : 0);
}

static void bars_init(struct hvx_pt_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;
	int i;

	for (i = 0; i < HVX_PT_NR_BARS; i++) {
		struct hvx_pt_bar *b = &dev->bars[i];
		unsigned long fl = pci_resource_flags(pdev, i);
		u32 hw;

		pci_read_config_dword(pdev, PCI_BASE_ADDRESS_0 + 4 * i, &hw);
		if (i && (dev->bars[i - 1].flags & HVX_PCI_REGION_MEM64)) {
			b->vbar = hw;	/* high half of the previous BAR */
			continue;
		}
		if (!pci_resource_len(pdev, i) || !(fl & (IORESOURCE_IO | IORESOURCE_MEM)))
			continue;
		b->size = pci_resource_len(pdev, i);
		b->host = pci_resource_start(pdev, i);
		b->flags = HVX_PCI_REGION_READ | HVX_PCI_REGION_WRITE;
		if (fl & IORESOURCE_IO) {
			b->flags |= HVX_PCI_REGION_IO;
		} else {
			if (fl & IORESOURCE_MEM_64)
				b->flags |= HVX_PCI_REGION_MEM64;
			if (fl & IORESOURCE_PREFETCH)
				b->flags |= HVX_PCI_REGION_PREFETCH;
			if (b->size >= PAGE_SIZE)
				b->flags |= HVX_PCI_REGION_MMAP;
		}
		/* The guest starts with the host's addresses, as under VFIO. */
		b->vbar = hw;
	}
}

static int caps_init(struct hvx_pt_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;
	u16 ctrl;
	u32 v;
	int i;

	dev->msi_cap = pdev->msi_cap;
	if (dev->msi_cap) {
		pci_read_config_word(pdev, dev->msi_cap + PCI_MSI_FLAGS, &ctrl);
		dev->msi_ctrl_ro = ctrl & (PCI_MSI_FLAGS_QMASK |
					   PCI_MSI_FLAGS_64BIT |
					   PCI_MSI_FLAGS_MASKBIT);
		dev->msi_vectors = 1 << ((ctrl & PCI_MSI_FLAGS_QMASK) >> 1);
	}
	dev->msix_cap = pdev->msix_cap;
	if (dev->msix_cap) {
		pci_read_config_word(pdev, dev->msix_cap + PCI_MSIX_FLAGS, &ctrl);
		dev->msix_vectors = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
		pci_read_config_dword(pdev, dev->msix_cap + PCI_MSIX_TABLE, &v);
		dev->msix_bar = v & PCI_MSIX_TABLE_BIR;
		dev->msix_table_off = v & PCI_MSIX_TABLE_OFFSET;
		pci_read_config_dword(pdev, dev->msix_cap + PCI_MSIX_PBA, &v);
		dev->msix_pba_bar = v & PCI_MSIX_PBA_BIR;
		dev->msix_pba_off = v & PCI_MSIX_PBA_OFFSET;
		if (dev->msix_bar >= HVX_PT_NR_BARS ||
		    dev->msix_pba_bar >= HVX_PT_NR_BARS)
			return -EINVAL;
		dev->msix_table = kcalloc(dev->msix_vectors * MSIX_ENTRY_DWORDS,
					  sizeof(u32), GFP_KERNEL_ACCOUNT);
		if (!dev->msix_table)
			return -ENOMEM;
		/* Every vector starts masked (PCI 3.0, 6.8.2.9). */
		for (i = 0; i < dev->msix_vectors; i++)
			dev->msix_table[i * MSIX_ENTRY_DWORDS + 3] =
				PCI_MSIX_ENTRY_CTRL_MASKBIT;
	}
	return 0;
}

/**
 * hvx_pt_config_init - set up the virtual config space of a new assignment
 * @dev: the device, enabled, not yet visible to anyone.
 *
 * Reads BAR sizes and types from the host's resources, finds the MSI and
 * MSI-X capabilities, maps the memory BARs for pread/pwrite and finds the
 * BAR parts the guest reaches through the device bus (trap.c).
 * Context: process context.
 * Return: 0, -ENOMEM, or -EINVAL for a malformed MSI-X capability.
 */
int hvx_pt_config_init(struct hvx_pt_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;
	u16 cmd;
	int i, ret;

	bars_init(dev);
	ret = caps_init(dev);
	if (ret)
		return ret;
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	dev->vcmd = cmd & PCI_COMMAND_INTX_DISABLE;
	pci_read_config_byte(pdev, PCI_INTERRUPT_LINE, &dev->vline);
	dev->intx_maskable = pci_intx_mask_supported(pdev);
	for (i = 0; i < HVX_PT_NR_BARS; i++) {
		struct hvx_pt_bar *b = &dev->bars[i];

		if (!b->size || (b->flags & HVX_PCI_REGION_IO))
			continue;
		b->va = pci_iomap(pdev, i, 0);
		if (!b->va) {
			hvx_pt_config_exit(dev);
			return -ENOMEM;
		}
	}
	hvx_pt_traps_init(dev);
	return 0;
}

/**
 * hvx_pt_config_exit - undo hvx_pt_config_init() at release
 * @dev: the device (its lock held, or not yet visible).
 */
void hvx_pt_config_exit(struct hvx_pt_dev *dev)
{
	int i;

	for (i = 0; i < HVX_PT_NR_BARS; i++) {
		if (dev->bars[i].va)
			pci_iounmap(dev->pdev, dev->bars[i].va);
		dev->bars[i].va = NULL;
	}
}

/* The guest's view of a BAR dword (index @i). */
static u32 bar_read(struct hvx_pt_dev *dev, int i)
{
	return dev->bars[i].vbar;
}

/*
 * A guest write to BAR @i: keep the address bits its size allows and
 * the read-only type bits (PCI 3.0, 6.2.5.1); all ones reads back the
 * size mask. An unimplemented BAR stays 0.
 */
static void bar_write(struct hvx_pt_dev *dev, int i, u32 val)
{
	struct hvx_pt_bar *b = &dev->bars[i];
	u64 mask;

	if (i && (dev->bars[i - 1].flags & HVX_PCI_REGION_MEM64)) {
		mask = ~(dev->bars[i - 1].size - 1);
		b->vbar = val & (u32)(mask >> 32);
		return;
	}
	if (!b->size)
		return;
	mask = ~(b->size - 1);
	if (b->flags & HVX_PCI_REGION_IO)
		b->vbar = (val & (u32)mask & PCI_BASE_ADDRESS_IO_MASK) |
			  PCI_BASE_ADDRESS_SPACE_IO;
	else
		b->vbar = (val & (u32)mask & PCI_BASE_ADDRESS_MEM_MASK) |
			  (b->vbar & ~PCI_BASE_ADDRESS_MEM_MASK);
}

/**
 * hvx_pt_bar_guest_addr - the address the guest gave a BAR
 * @dev: the device.
 * @i: BAR index.
 *
 * Return: the guest's base address of BAR @i (the port for an I/O BAR).
 */
u64 hvx_pt_bar_guest_addr(struct hvx_pt_dev *dev, int i)
{
	struct hvx_pt_bar *b = &dev->bars[i];
	u64 addr;

	if (b->flags & HVX_PCI_REGION_IO)
		return b->vbar & PCI_BASE_ADDRESS_IO_MASK;
	addr = b->vbar & PCI_BASE_ADDRESS_MEM_MASK;
	if (b->flags & HVX_PCI_REGION_MEM64)
		addr |= (u64)dev->bars[i + 1].vbar << 32;
	return addr;
}

/* Compose the guest's view of the config dword at @off (aligned). */
static u32 cfg_read_dword(struct hvx_pt_dev *dev, unsigned int off)
{
	struct pci_dev *pdev = dev->pdev;
	u32 hw = 0;

	if (off >= PCI_BASE_ADDRESS_0 && off <= PCI_BASE_ADDRESS_5)
		return bar_read(dev, (off - PCI_BASE_ADDRESS_0) / 4);
	if (off == PCI_ROM_ADDRESS)
		return 0;
	pci_read_config_dword(pdev, off, &hw);
	if (off == PCI_COMMAND)
		return (hw & ~PCI_COMMAND_INTX_DISABLE) | dev->vcmd;
	if (off == PCI_CACHE_LINE_SIZE)
		return hw & 0x00ffffff;	/* BIST: none */
	if (off == PCI_INTERRUPT_LINE)
		return (hw & ~0xff) | dev->vline;
	if (dev->msi_cap && off >= dev->msi_cap &&
	    off < dev->msi_cap + msi_len(dev)) {
		unsigned int r = off - dev->msi_cap;

		if (r == 0)
			return (hw & 0xffff) |
			       (u32)(dev->msi_ctrl_ro | dev->msi_ctrl) << 16;
		if (r == PCI_MSI_ADDRESS_LO)
			return (u32)dev->msi_addr;
		if (msi_64(dev) && r == PCI_MSI_ADDRESS_HI)
			return dev->msi_addr >> 32;
		if (r == msi_data_off(dev))
			return dev->msi_data;
		if (msi_maskable(dev) && r == msi_mask_off(dev))
			return dev->msi_mask;
		return hw;	/* pending bits */
	}
	if (dev->msix_cap && off == dev->msix_cap)
		return (hw & ~((u32)(PCI_MSIX_FLAGS_ENABLE |
				     PCI_MSIX_FLAGS_MASKALL) << 16)) |
		       (u32)dev->msix_ctrl << 16;
	return hw;
}

/* A guest write of @val to the dword at @off; @be: bytes written. */
static void cfg_write_dword(struct hvx_pt_dev *dev, unsigned int off, u32 val,
			    unsigned int be)
{
	struct pci_dev *pdev = dev->pdev;

	if (off == PCI_COMMAND) {
		if (be & 3) {
			unsigned long flags;
			u16 hw;

			spin_lock_irqsave(&dev->irq_lock, flags);
			dev->vcmd = val & PCI_COMMAND_INTX_DISABLE;
			pci_read_config_word(pdev, PCI_COMMAND, &hw);
			hw = (hw & ~(CMD_PASS | PCI_COMMAND_INTX_DISABLE)) |
			     (val & CMD_PASS);
			/* hvx may hold INTx masked after an interrupt. */
			if (dev->vcmd || (dev->intx_masked && dev->intx_maskable))
				hw |= PCI_COMMAND_INTX_DISABLE;
			pci_write_config_word(pdev, PCI_COMMAND, hw);
			spin_unlock_irqrestore(&dev->irq_lock, flags);
		}
		if ((be & 0xc) && ((val >> 16) & STATUS_RW1C))
			pci_write_config_word(pdev, PCI_STATUS,
					      (val >> 16) & STATUS_RW1C);
		return;
	}
	if (off == PCI_CACHE_LINE_SIZE) {
		if (be & 1)
			pci_write_config_byte(pdev, PCI_CACHE_LINE_SIZE, val);
		if (be & 2)
			pci_write_config_byte(pdev, PCI_LATENCY_TIMER, val >> 8);
		return;
	}
	if (off >= PCI_BASE_ADDRESS_0 && off <= PCI_BASE_ADDRESS_5) {
		bar_write(dev, (off - PCI_BASE_ADDRESS_0) / 4, val);
		return;
	}
	if (off == PCI_INTERRUPT_LINE) {
		if (be & 1)
			dev->vline = val;
		return;
	}
	if (dev->msi_cap && off >= dev->msi_cap &&
	    off < dev->msi_cap + msi_len(dev)) {
		unsigned int r = off - dev->msi_cap;
		u16 ctrl;

		if (r == 0 && (be & 0xc)) {
			ctrl = val >> 16;
			/* MME beyond MMC reads back as MMC (6.8.1.3). */
			if (((ctrl & PCI_MSI_FLAGS_QSIZE) >> 4) >
			    ((dev->msi_ctrl_ro & PCI_MSI_FLAGS_QMASK) >> 1))
				ctrl = (ctrl & ~PCI_MSI_FLAGS_QSIZE) |
				       ((dev->msi_ctrl_ro & PCI_MSI_FLAGS_QMASK) << 3);
			dev->msi_ctrl = ctrl & (PCI_MSI_FLAGS_ENABLE |
						PCI_MSI_FLAGS_QSIZE);
		} else if (r == PCI_MSI_ADDRESS_LO) {
			dev->msi_addr = (dev->msi_addr & ~0xffffffffULL) |
					(val & ~3u);
		} else if (msi_64(dev) && r == PCI_MSI_ADDRESS_HI) {
			dev->msi_addr = (u32)dev->msi_addr | (u64)val << 32;
		} else if (r == msi_data_off(dev)) {
			dev->msi_data = val;
		} else if (msi_maskable(dev) && r == msi_mask_off(dev)) {
			dev->msi_mask = val;
		}
		return;
	}
	if (dev->msix_cap && off == dev->msix_cap && (be & 0xc)) {
		unsigned long flags;

		/* The handlers honour the Function Mask under irq_lock. */
		spin_lock_irqsave(&dev->irq_lock, flags);
		dev->msix_ctrl = (val >> 16) & (PCI_MSIX_FLAGS_ENABLE |
						PCI_MSIX_FLAGS_MASKALL);
		spin_unlock_irqrestore(&dev->irq_lock, flags);
		return;
	}
	/* Anything else: read-only for the guest. */
}

static int cfg_check(unsigned int off, unsigned int len)
{
	if ((len != 1 && len != 2 && len != 4) || (off & (len - 1)) ||
	    off + len > PCI_CFG_SPACE_EXP_SIZE)
		return -EINVAL;
	return 0;
}

/**
 * hvx_pt_config_read - read the guest's view of the config space
 * @dev: the device (its lock held).
 * @off: byte offset, 0 .. 4095, naturally aligned to @len.
 * @len: 1, 2 or 4 bytes.
 * @val: the value read (zero-extended).
 *
 * Context: process context.
 * Return: 0, or -EINVAL for a bad size, alignment or offset.
 */
int hvx_pt_config_read(struct hvx_pt_dev *dev, unsigned int off,
		       unsigned int len, u32 *val)
{
	unsigned int shift = (off & 3) * 8;
	u32 dw;

	if (cfg_check(off, len))
		return -EINVAL;
	dw = cfg_read_dword(dev, off & ~3u);
	*val = (dw >> shift) & (len == 4 ? ~0u : (1u << (len * 8)) - 1);
	return 0;
}

/**
 * hvx_pt_config_write - a write to the guest's view of the config space
 * @dev: the device (its lock held).
 * @off: byte offset, naturally aligned to @len.
 * @len: 1, 2 or 4 bytes.
 * @val: the value (low @len bytes).
 *
 * Updates the virtualized registers and writes the passed-through bits
 * to the device (see the file comment); other writes are dropped.
 * Context: process context.
 * Return: 0, or -EINVAL for a bad size, alignment or offset.
 */
int hvx_pt_config_write(struct hvx_pt_dev *dev, unsigned int off,
			unsigned int len, u32 val)
{
	unsigned int shift = (off & 3) * 8;
	u32 mask = (len == 4 ? ~0u : (1u << (len * 8)) - 1) << shift;
	u32 dw;

	if (cfg_check(off, len))
		return -EINVAL;
	if (off >= PCI_CFG_SPACE_SIZE)
		return 0;	/* extended config space: read-only */
	dw = cfg_read_dword(dev, off & ~3u);
	dw = (dw & ~mask) | ((val << shift) & mask);
	cfg_write_dword(dev, off & ~3u, dw, ((1u << len) - 1) << (off & 3));
	return 0;
}

/* [start, end) of the MSI-X structures in BAR @bar, page-aligned; 0 if none. */
static void msix_range(struct hvx_pt_dev *dev, int bar, u64 *start, u64 *end)
{
	u64 s = U64_MAX, e = 0;

	*start = *end = 0;
	if (!dev->msix_cap)
		return;
	if (dev->msix_bar == bar) {
		s = dev->msix_table_off;
		e = s + dev->msix_vectors * PCI_MSIX_ENTRY_SIZE;
	}
	if (dev->msix_pba_bar == bar) {
		s = min_t(u64, s, dev->msix_pba_off);
		e = max_t(u64, e, dev->msix_pba_off +
			  DIV_ROUND_UP(dev->msix_vectors, 64) * 8);
	}
	if (e) {
		*start = round_down(s, PAGE_SIZE);
		*end = round_up(e, PAGE_SIZE);
	}
}

/**
 * hvx_pt_bar_in_msix - does a BAR range touch the pages of the MSI-X
 *	table or PBA (which mmap refuses)?
 * @dev: the device.
 * @bar: BAR index.
 * @off: first byte of the range, in the BAR.
 * @len: bytes.
 * @start: out: page-aligned start of the MSI-X pages in the BAR.
 * @size: out: their size in bytes (0 if the BAR has none).
 *
 * Return: true if [@off, @off + @len) overlaps them.
 */
bool hvx_pt_bar_in_msix(struct hvx_pt_dev *dev, int bar, u64 off, u64 len,
			u64 *start, u64 *size)
{
	u64 s, e;

	msix_range(dev, bar, &s, &e);
	*start = s;
	*size = e - s;
	return e && off < e && off + len > s;
}

/* A guest write of dword @v at offset @toff of the MSI-X table. */
static void msix_entry_write(struct hvx_pt_dev *dev, u64 toff, u32 v)
{
	u32 *t = &dev->msix_table[toff / 4];

	switch (toff % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		*t = v & ~3u;	/* dword aligned (6.8.2.7) */
		break;
	case PCI_MSIX_ENTRY_VECTOR_CTRL:
		*t = v & PCI_MSIX_ENTRY_CTRL_MASKBIT;	/* the rest reserved */
		break;
	default:
		*t = v;
	}
}

/* Emulate a dword or qword access at offset @toff of the MSI-X table. */
static void msix_table_access(struct hvx_pt_dev *dev, u64 toff,
			      unsigned int len, u64 *val, bool write)
{
	u32 *t = &dev->msix_table[toff / 4];
	unsigned long flags;

	if (!write) {
		*val = READ_ONCE(t[0]);
		if (len == 8)
			*val |= (u64)READ_ONCE(t[1]) << 32;
		return;
	}
	/* The interrupt handlers read entries under irq_lock. */
	spin_lock_irqsave(&dev->irq_lock, flags);
	msix_entry_write(dev, toff, *val);
	if (len == 8)
		msix_entry_write(dev, toff + 4, *val >> 32);
	spin_unlock_irqrestore(&dev->irq_lock, flags);
	/* A vector unmasked with a message pending sends it now (6.8.2.9). */
	if (dev->irq_type == HVX_PCI_IRQ_MSIX && dev->guest_irqs)
		hvx_pt_gmsix_flush(dev);
}

/*
 * The emulated PBA: a bit per vector, set while a vector that fired is
 * masked (6.8.2.10). Only vectors 0-31 have host vectors, so only the
 * low dword can have bits set. Read-only.
 */
static u64 msix_pba_read(struct hvx_pt_dev *dev, u64 poff, unsigned int len)
{
	u64 q = poff < 8 ? READ_ONCE(dev->gmsix_pending) : 0;

	if (len == 4)
		return (u32)(q >> ((poff & 4) * 8));
	return q;
}

/**
 * hvx_pt_msix_table_rw - emulate an access to the MSI-X pages of a BAR
 * @dev: the device (its lock held).
 * @bar: BAR index.
 * @off: offset in the BAR, naturally aligned to @len.
 * @len: 1, 2, 4 or 8 bytes; the table and PBA take only 4 or 8 (PCI 3.0,
 *	6.8.2: dword or qword accesses).
 * @val: in for writes, out for reads.
 * @write: a write.
 *
 * The table lives in memory: the guest's addresses and data and its
 * per-vector Mask bits (which the host vectors' handlers honour, with the
 * Function Mask; unmasking sends a pending message). The PBA shows the
 * vectors held pending by those masks; writes to it are dropped. Other
 * bytes of the MSI-X pages go to the device.
 * Context: process context.
 * Return: 0, or -EINVAL for a bad size or alignment (nothing done).
 */
int hvx_pt_msix_table_rw(struct hvx_pt_dev *dev, int bar, u64 off,
			 unsigned int len, u64 *val, bool write)
{
	u64 tstart = dev->msix_table_off;
	u64 tend = tstart + dev->msix_vectors * PCI_MSIX_ENTRY_SIZE;
	u64 pstart = dev->msix_pba_off;
	u64 pend = pstart + DIV_ROUND_UP(dev->msix_vectors, 64) * 8;
	void __iomem *va = dev->bars[bar].va;
	bool table, pba;

	if ((len != 1 && len != 2 && len != 4 && len != 8) || (off & (len - 1)))
		return -EINVAL;
	table = bar == dev->msix_bar && off < tend && off + len > tstart;
	pba = bar == dev->msix_pba_bar && off < pend && off + len > pstart;
	if (table || pba) {
		if (len < 4)
			return -EINVAL;
		if (table)
			msix_table_access(dev, off - tstart, len, val, write);
		else if (!write)
			*val = msix_pba_read(dev, off - pstart, len);
		return 0;
	}
	/* The rest of the pages: the device's own registers. */
	switch (len) {
	case 1:
		if (write)
			writeb(*val, va + off);
		else
			*val = readb(va + off);
		break;
	case 2:
		if (write)
			writew(*val, va + off);
		else
			*val = readw(va + off);
		break;
	case 4:
		if (write)
			writel(*val, va + off);
		else
			*val = readl(va + off);
		break;
	case 8:
		if (write)
			writeq(*val, va + off);
		else
			*val = readq(va + off);
		break;
	}
	return 0;
}
