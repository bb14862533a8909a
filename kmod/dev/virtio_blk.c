// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_blk.c - virtio-blk (virtio 1.1, 5.2) backed by a file or block
 * device that userspace opened and handed over.
 *
 * One request queue. The worker serves each request synchronously through
 * the VFS, the data straight between the file and guest memory: one
 * vfs_iter_read() or vfs_iter_write() over an iov_iter of the guest
 * buffers' host addresses (hvx_gpa_iov(), held in one SRCU read section
 * across the call, so the file copies the data once), a write
 * acknowledged only when the file took it; vfs_fsync() for a flush
 * (acknowledged when durable), vfs_fallocate() for discard (PUNCH_HOLE)
 * and write-zeroes (ZERO_RANGE, or PUNCH_HOLE when the driver allows
 * unmapping; each the other's fallback where the file lacks one).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "../hvx_core.h"
#include "virtio.h"

#define SECTOR_SHIFT_BLK	9	/* virtio-blk sectors are 512 bytes (5.2.6) */
#define SECTOR_BYTES		512
/*
 * Queue size offered: one 1 MiB request of scattered 4 KiB pages (256
 * buffers, the header and the status) fits one chain, and seg_max is
 * the queue size less those two, as QEMU's (its largest queue is 1024).
 */
#define BLK_QSIZE		1024
/* Host ranges per piece of a request: a chain's buffers, usually. */
#define BLK_IOV			BLK_QSIZE
/* Largest discard or write-zeroes request, sectors (1 GiB). */
#define MAX_ZERO_SECTORS	(SZ_1G >> SECTOR_SHIFT_BLK)

/**
 * struct hvx_virtio_blk - a virtio-blk device
 * @vdev: the transport.
 * @file: the backing (a reference).
 * @ro: a read-only disk.
 * @bytes: the disk's size, whole sectors.
 * @cfg: the device configuration the driver reads.
 * @serial: the GET_ID answer.
 * @iov: the host ranges of a request's data, BLK_IOV of them.
 */
struct hvx_virtio_blk {
	struct hvx_virtio vdev;
	struct file *file;
	bool ro;
	u64 bytes;
	struct virtio_blk_config cfg;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct iovec *iov;
};

static struct hvx_virtio_blk *to_blk(struct hvx_virtio *d)
{
	return container_of(d, struct hvx_virtio_blk, vdev);
}

/* Is [sector, sector + bytes) inside the disk? */
static bool in_disk(struct hvx_virtio_blk *b, u64 sector, u64 bytes)
{
	return sector <= b->bytes >> SECTOR_SHIFT_BLK &&
	       bytes <= b->bytes - (sector << SECTOR_SHIFT_BLK);
}

/*
 * The host ranges of the chain's data bytes from @off, @len of them (its
 * writable bytes for a read into guest memory, else its readable ones),
 * into b->iov: *@nr entries for *@got bytes, fewer than @len when b->iov
 * is full. The caller holds hvx_gpa_hold(). Returns 0, -EAGAIN (a slot
 * is being changed), -EFAULT (not RAM, or read-only for @to_guest: the
 * slot changed since the chain was checked) or -EINVAL (the chain has
 * fewer such bytes).
 */
static int blk_map(struct hvx_virtio_blk *b, const struct hvx_vq_chain *c,
		   struct hvx_gpa_cursor *cur, bool to_guest, u64 off, u64 len,
		   unsigned int *nr, u64 *got)
{
	struct hvx_mem *mem = &b->vdev.vm->mem;
	unsigned int i;

	*nr = 0;
	*got = 0;
	for (i = 0; i < c->nseg && *got < len; i++) {
		const struct hvx_vq_seg *s = &c->seg[i];
		u64 n;
		long r;

		if (s->write != to_guest)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = min_t(u64, len - *got, s->len - off);
		r = hvx_gpa_iov(mem, cur, s->gpa + off, n, to_guest, b->iov,
				BLK_IOV, nr);
		if (r < 0)
			return r == -EAGAIN ? r : -EFAULT;
		*got += r;
		if (r < n)
			return 0;	/* b->iov is full */
		off = 0;
	}
	return *got < len ? -EINVAL : 0;
}

/* Log the chain's writable bytes [@off, @off + @len) as written. */
static void blk_dirty(struct hvx_virtio_blk *b, const struct hvx_vq_chain *c,
		      struct hvx_gpa_cursor *cur, u64 off, u64 len)
{
	unsigned int i;

	for (i = 0; i < c->nseg && len; i++) {
		const struct hvx_vq_seg *s = &c->seg[i];
		u64 n;

		if (!s->write)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = min_t(u64, len, s->len - off);
		hvx_gpa_dirty(&b->vdev.vm->mem, cur, s->gpa + off, n);
		len -= n;
		off = 0;
	}
}

/* Zeroes into the chain's writable bytes [@off, @off + @len). */
static u8 blk_fill_zero(struct hvx_virtio_blk *b, struct hvx_vq_chain *c,
			u64 off, u64 len, int *err)
{
	while (len) {
		u32 n = min_t(u64, len, PAGE_SIZE);

		*err = hvx_vq_copy(&b->vdev, c, true, off,
				   page_address(ZERO_PAGE(0)), n);
		if (*err)
			return VIRTIO_BLK_S_IOERR;
		off += n;
		len -= n;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * Move @len bytes between the file at @pos and the chain's data bytes
 * from @off (its writable bytes for a read into guest memory, else its
 * readable ones) with one vfs_iter_read() or vfs_iter_write() over the
 * guest buffers' host addresses per piece of up to BLK_IOV ranges, so
 * the data is copied once, by the file. The addresses stay valid across
 * the call (hvx_gpa_hold() until the pages read into are logged). A
 * read that stops short goes on from there; at the end of a file that
 * shrank, the rest reads as zeroes.
 */
static u8 blk_rw(struct hvx_virtio_blk *b, struct hvx_vq_chain *c,
		 bool to_guest, u64 off, loff_t pos, u64 len, int *err)
{
	struct hvx_mem *mem = &b->vdev.vm->mem;
	u64 done = 0;

	while (done < len) {
		struct hvx_gpa_cursor cur = {};
		loff_t p = pos + done;
		struct iov_iter it;
		unsigned int nr;
		int idx, ret;
		ssize_t r;
		u64 got;

		idx = hvx_gpa_hold(mem);
		ret = blk_map(b, c, &cur, to_guest, off + done, len - done, &nr,
			      &got);
		if (ret) {
			hvx_gpa_release(mem, idx);
			if (ret != -EAGAIN) {
				*err = ret;
				return VIRTIO_BLK_S_IOERR;
			}
			hvx_mem_wait(mem);	/* a slot change: wait, map again */
			continue;
		}
		iov_iter_init(&it, to_guest ? ITER_DEST : ITER_SOURCE, b->iov,
			      nr, got);
		if (to_guest) {
			r = vfs_iter_read(b->file, &it, &p, 0);
			if (r > 0)
				blk_dirty(b, c, &cur, off + done, r);
		} else {
			r = hvx_vfs_iter_write(b->file, &it, &p);
		}
		hvx_gpa_release(mem, idx);
		if (r == -EFAULT)	/* the VMM unmapped guest memory */
			*err = -EFAULT;
		if (r < 0 || (!r && !to_guest))
			return VIRTIO_BLK_S_IOERR;
		if (!r)		/* past the end of a file that shrank */
			return blk_fill_zero(b, c, off + done, len - done, err);
		done += r;
	}
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: segments follow the header (5.2.6). */
static u8 blk_zero(struct hvx_virtio_blk *b, struct hvx_vq_chain *c,
		   u64 len, bool discard, int *err)
{
	struct virtio_blk_discard_write_zeroes z;
	u64 off;

	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (!len || len % sizeof(z))
		return VIRTIO_BLK_S_UNSUPP;
	for (off = 0; off < len; off += sizeof(z)) {
		u64 sector, bytes;
		u32 flags;
		int mode = FALLOC_FL_KEEP_SIZE, ret;

		*err = hvx_vq_copy(&b->vdev, c, false,
				   sizeof(struct virtio_blk_outhdr) + off,
				   &z, sizeof(z));
		if (*err)
			return VIRTIO_BLK_S_IOERR;
		sector = le64_to_cpu((__force __le64)z.sector);
		bytes = (u64)le32_to_cpu((__force __le32)z.num_sectors)
			<< SECTOR_SHIFT_BLK;
		flags = le32_to_cpu((__force __le32)z.flags);
		if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ||
		    (discard && flags) ||
		    bytes > (u64)MAX_ZERO_SECTORS << SECTOR_SHIFT_BLK)
			return VIRTIO_BLK_S_UNSUPP;
		if (!in_disk(b, sector, bytes))
			return VIRTIO_BLK_S_IOERR;
		if (!bytes)
			continue;
		if (discard || (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
			mode |= FALLOC_FL_PUNCH_HOLE;
		else
			mode |= FALLOC_FL_ZERO_RANGE;
		ret = vfs_fallocate(b->file, mode, sector << SECTOR_SHIFT_BLK,
				    bytes);
		/*
		 * Not every file system zeroes ranges, or punches holes:
		 * write-zeroes takes either (unmapping is only allowed,
		 * 5.2.6.2), a hole reads zero.
		 */
		if (ret == -EOPNOTSUPP && !discard)
			ret = vfs_fallocate(b->file, FALLOC_FL_KEEP_SIZE |
					    (mode & FALLOC_FL_ZERO_RANGE ?
					     FALLOC_FL_PUNCH_HOLE :
					     FALLOC_FL_ZERO_RANGE),
					    sector << SECTOR_SHIFT_BLK, bytes);
		if (ret == -EOPNOTSUPP)
			return VIRTIO_BLK_S_UNSUPP;
		if (ret)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * One request (5.2.6): a struct virtio_blk_outhdr in the readable bytes,
 * the data, and the status byte as the last writable byte. A chain too
 * short for the header or the status breaks the rules; errors of the
 * request itself go back in the status.
 */
static int blk_request(struct hvx_virtio *d, unsigned int q,
		       struct hvx_vq_chain *c, u32 *written)
{
	struct hvx_virtio_blk *b = to_blk(d);
	struct virtio_blk_outhdr h;
	u64 sector, len;
	int err = 0;
	u8 st;

	if (c->out_len < sizeof(h) || !c->in_len ||
	    hvx_vq_copy(d, c, false, 0, &h, sizeof(h)))
		return -EFAULT;
	sector = le64_to_cpu((__force __le64)h.sector);
	*written = 1;
	switch (le32_to_cpu((__force __le32)h.type)) {
	case VIRTIO_BLK_T_IN:
		len = c->in_len - 1;
		st = VIRTIO_BLK_S_IOERR;
		if (len % SECTOR_BYTES || c->out_len != sizeof(h) ||
		    !in_disk(b, sector, len))
			break;
		st = blk_rw(b, c, true, 0, sector << SECTOR_SHIFT_BLK, len,
			    &err);
		if (st == VIRTIO_BLK_S_OK) {
			*written += len;
			atomic64_add(len, &d->nr_bytes);
		}
		break;
	case VIRTIO_BLK_T_OUT:
		len = c->out_len - sizeof(h);
		st = VIRTIO_BLK_S_IOERR;
		if (b->ro || len % SECTOR_BYTES || c->in_len != 1 ||
		    !in_disk(b, sector, len))
			break;
		st = blk_rw(b, c, false, sizeof(h), sector << SECTOR_SHIFT_BLK,
			    len, &err);
		if (st == VIRTIO_BLK_S_OK)
			atomic64_add(len, &d->nr_bytes);
		break;
	case VIRTIO_BLK_T_FLUSH:
		st = vfs_fsync(b->file, 0) ? VIRTIO_BLK_S_IOERR :
					     VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		st = VIRTIO_BLK_S_IOERR;
		len = min_t(u64, c->in_len - 1, VIRTIO_BLK_ID_BYTES);
		err = hvx_vq_copy(d, c, true, 0, b->serial, len);
		if (!err) {
			st = VIRTIO_BLK_S_OK;
			*written += len;
		}
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		st = VIRTIO_BLK_S_UNSUPP;
		if (!(b->vdev.features & BIT_ULL(VIRTIO_BLK_F_DISCARD)))
			break;
		st = blk_zero(b, c, c->out_len - sizeof(h),
			      le32_to_cpu((__force __le32)h.type) ==
			      VIRTIO_BLK_T_DISCARD, &err);
		break;
	default:
		st = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (err == -EFAULT)	/* guest memory went away mid-request */
		return -EFAULT;
	if (st != VIRTIO_BLK_S_OK)
		atomic64_inc(&d->nr_errors);
	if (hvx_vq_copy(d, c, true, c->in_len - 1, &st, 1))
		return -EFAULT;
	return 0;
}

static void blk_release(struct hvx_virtio *d)
{
	struct hvx_virtio_blk *b = to_blk(d);

	fput(b->file);
	kvfree(b->iov);
	kvfree(b);
}

static const struct hvx_virtio_ops blk_ops = {
	.id		= VIRTIO_ID_BLOCK,
	.class		= PCI_CLASS_STORAGE_SCSI << 8,
	.request	= blk_request,
	.release	= blk_release,
	.can_save	= true,
};

#define CFG32(x)	((__force __virtio32)cpu_to_le32(x))

/* The backing's size, and whether it can punch holes. */
static int blk_backing(struct hvx_virtio_blk *b, const struct hvx_virtio_device *a)
{
	struct inode *inode = file_inode(b->file);

	if (!S_ISREG(inode->i_mode) && !S_ISBLK(inode->i_mode))
		return -EINVAL;
	if (!(b->file->f_mode & FMODE_READ))
		return -EBADF;
	b->ro = a->flags & HVX_VIRTIO_RO;
	if (!b->ro && !(b->file->f_mode & FMODE_WRITE))
		return -EPERM;
	/* Requests are served with iterators over guest memory. */
	if (!b->file->f_op->read_iter ||
	    (!b->ro && !b->file->f_op->write_iter))
		return -EINVAL;
	/* A block device's size is its mapping host's (the bdev inode). */
	b->bytes = i_size_read(b->file->f_mapping->host) &
		   ~(u64)(SECTOR_BYTES - 1);
	return 0;
}

/**
 * hvx_virtio_blk_create - HVX_CREATE_VIRTIO for HVX_VIRTIO_BLK
 * @vm: the VM.
 * @a: the argument, its transport fields checked.
 *
 * Context: process context of the VM's owner.
 * Return: 0, or -EBADF, -EINVAL, -EPERM, -EEXIST, -ENODEV, -ENOMEM (see
 * HVX_CREATE_VIRTIO); on error nothing changed.
 */
long hvx_virtio_blk_create(struct hvx_vm *vm, const struct hvx_virtio_device *a)
{
	struct hvx_virtio_blk *b;
	u64 features;
	int ret;

	b = kvzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b)
		return -ENOMEM;
	b->file = fget(a->fd);
	if (!b->file) {
		kvfree(b);
		return -EBADF;
	}
	ret = blk_backing(b, a);
	if (ret)
		goto err_file;
	ret = -ENOMEM;
	b->iov = kvmalloc_array(BLK_IOV, sizeof(*b->iov), GFP_KERNEL_ACCOUNT);
	if (!b->iov)
		goto err_file;
	memcpy(b->serial, a->serial, sizeof(b->serial));

	features = BIT_ULL(VIRTIO_BLK_F_SEG_MAX) | BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) |
		   BIT_ULL(VIRTIO_BLK_F_FLUSH);
	b->cfg.capacity = (__force __virtio64)cpu_to_le64(b->bytes >> SECTOR_SHIFT_BLK);
	b->cfg.seg_max = CFG32(BLK_QSIZE - 2);
	b->cfg.blk_size = CFG32(SECTOR_BYTES);
	if (b->ro) {
		features |= BIT_ULL(VIRTIO_BLK_F_RO);
	} else if (b->file->f_op->fallocate) {
		features |= BIT_ULL(VIRTIO_BLK_F_DISCARD) |
			    BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES);
		b->cfg.max_discard_sectors = CFG32(MAX_ZERO_SECTORS);
		b->cfg.max_discard_seg = CFG32(1);
		b->cfg.discard_sector_alignment = CFG32(1);
		b->cfg.max_write_zeroes_sectors = CFG32(MAX_ZERO_SECTORS);
		b->cfg.max_write_zeroes_seg = CFG32(1);
		b->cfg.write_zeroes_may_unmap = 1;
	}
	/* Its configuration fits a state record (HVX_STATE_VIRTIO). */
	BUILD_BUG_ON(sizeof(b->cfg) > HVX_STATE_VIRTIO_CONFIG);
	b->vdev.devcfg = &b->cfg;
	b->vdev.devcfg_len = sizeof(b->cfg);
	b->vdev.nvqs = 1;
	b->vdev.qmax = BLK_QSIZE;
	ret = hvx_virtio_init(&b->vdev, vm, a, &blk_ops, features);
	if (ret)
		goto err_buf;
	ret = hvx_virtio_add(&b->vdev, a);
	if (ret)
		hvx_virtio_discard(&b->vdev);	/* frees b */
	return ret;

err_buf:
	kvfree(b->iov);
err_file:
	fput(b->file);
	kvfree(b);
	return ret;
}
