// SPDX-License-Identifier: GPL-2.0
/*
 * novmx_test - on a CPU without VMX (QEMU TCG) hvx.ko loads, /dev/hvx
 * answers, HVX_CREATE_VM is refused with EOPNOTSUPP for a VM with vCPUs,
 * and a DMA-only VM (HVX_VM_NO_VCPUS, what passthrough needs) is still
 * created. The QEMU TCG boots run this case and the DMA/IOMMU programs
 * only (selftests/vm/hvxcheck.py), instead of every VMX program skipping
 * there. Where the CPU has VMX it skips: api_test covers creation there.
 */
#include <fcntl.h>
#include <sys/ioctl.h>

#include "hvx_test.h"

TEST(create_vm_refused)
{
	int fd, vm_fd;

	REQUIRE_HVX();
	if (cpuinfo_has_vmx())
		SKIP(return, "this CPU has VMX: api_test checks VM creation");
	fd = hvx_open();
	ASSERT_EQ(HVX_API_VERSION, ioctl(fd, HVX_GET_API_VERSION, 0));
	ASSERT_ERRNO_MSG(EOPNOTSUPP, ioctl(fd, HVX_CREATE_VM, 0),
			 "HVX_CREATE_VM without VMX");
	vm_fd = ioctl(fd, HVX_CREATE_VM, HVX_VM_NO_VCPUS);
	ASSERT_LE(0, vm_fd)
		TH_LOG("a DMA-only VM without VMX: %s", strerrorname_np(errno));
	close(vm_fd);
	close(fd);
}

TEST_HARNESS_MAIN
