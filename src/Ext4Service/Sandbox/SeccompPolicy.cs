using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Sandbox;

/// <summary>
/// Step 6 of <see cref="ServiceSandbox"/>: the seccomp allowlist of the serving service, as a
/// classic BPF program (kernel/seccomp.c, Documentation/userspace-api/seccomp_filter.rst).
/// </summary>
/// <remarks>
/// <para>How the list was found: strace -f of the real service (Native AOT) across
/// handshake, mount, a tree walk, file reads, readlink, xattrs, statfs and umount, keeping what
/// ran after the device fd arrived; then the confined service under strace, checking that no
/// call it needs returns EPERM. Added for read-write serving, which comes next: pwrite64,
/// pwritev(2), fsync, fdatasync on the device fd.</para>
/// <para>Default action: SECCOMP_RET_ERRNO(EPERM), not KILL_PROCESS. The runtime and glibc
/// probe optional calls and fall back when they fail (GC reads /proc/meminfo and falls back to
/// sysinfo; pthread_create tries clone3 and falls back to clone on ENOSYS); killing on such a
/// probe would end a healthy mount on a runtime update. An exploited service gains nothing
/// from an EPERM, and the self-test can prove each denial from inside. A foreign architecture
/// or an x32 call number (never made by this binary, and a classic filter bypass) kills the
/// process.</para>
/// <para>Arguments are checked where the call is dangerous in general and harmless as used:
/// clone only for threads (no new process, no namespace), tgkill only to this process,
/// prlimit64 only to read, prctl and ioctl only for the options the runtime uses. Path-based
/// stat (newfstatat/statx) stays allowed because glibc's fstat is newfstatat(fd, "",
/// AT_EMPTY_PATH) and seccomp cannot read the path; it reveals metadata, never contents.</para>
/// </remarks>
internal static class SeccompPolicy
{
    /// <summary>x32 system calls are numbered from here (__X32_SYSCALL_BIT) with the x86_64 audit arch.</summary>
    public const uint X32SyscallBit = 0x40000000;

    /// <summary>linux/prctl.h options the runtime and the self-test use after confinement.</summary>
    private static readonly uint[] AllowedPrctlOptions =
    [
        PrctlInterop.PR_SET_NAME, PrctlInterop.PR_GET_NAME, PrctlInterop.PR_GET_SECCOMP,
        PrctlInterop.PR_CAPBSET_READ, PrctlInterop.PR_GET_SECUREBITS, PrctlInterop.PR_GET_NO_NEW_PRIVS,
    ];

    /// <summary>TCGETS, TIOCGWINSZ (asm-generic/ioctls.h): Console asks whether 0..2 are terminals.
    /// FUSE_DEV_IOC_BACKING_OPEN and FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE (fuse-iomap v7,
    /// FUSE-PROTOCOL.md §2.6): the block device is registered on /dev/fuse in IOMAP_CONFIG; the
    /// kernel refuses both unless iomap was negotiated on that connection (EPERM/EOPNOTSUPP).
    /// They carry the FUSE ioctl type 229 (0xE5), which no other fd the service holds (block
    /// device, socket) implements.</summary>
    private static readonly uint[] AllowedIoctls = [0x5401, 0x5413, (uint)IoctlNumbers.FUSE_DEV_IOC_BACKING_OPEN, (uint)IoctlNumbers.FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE];

    /// <summary>CLONE_NEWTIME|NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (linux/sched.h).</summary>
    private const uint CloneNamespaceFlags = 0x00000080 | 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

    /// <summary>CLONE_THREAD.</summary>
    private const uint CloneThread = 0x00010000;

    /// <summary>The x86_64 allowlist for a process with id <paramref name="pid"/>.</summary>
    public static IReadOnlyList<SyscallRule> X64Rules(int pid) =>
    [
        // Memory: the GC and the allocator.
        SyscallRule.Allow(X64Syscall.brk),
        SyscallRule.Allow(X64Syscall.mmap),
        SyscallRule.Allow(X64Syscall.munmap),
        SyscallRule.Allow(X64Syscall.mprotect),
        SyscallRule.Allow(X64Syscall.mremap),
        SyscallRule.Allow(X64Syscall.madvise),
        SyscallRule.Allow(X64Syscall.membarrier),
        SyscallRule.Allow(X64Syscall.get_mempolicy),

        // Threads and synchronisation.
        SyscallRule.ThreadsOnly(X64Syscall.clone),
        SyscallRule.Fail(X64Syscall.clone3, Errno.ENOSYS), // its flags are in memory, unreadable to BPF; glibc falls back to clone
        SyscallRule.Allow(X64Syscall.futex),
        SyscallRule.Allow(X64Syscall.set_robust_list),
        SyscallRule.Allow(X64Syscall.rseq),
        SyscallRule.Allow(X64Syscall.sched_yield),
        SyscallRule.Allow(X64Syscall.sched_getaffinity),
        SyscallRule.Allow(X64Syscall.nanosleep),
        SyscallRule.Allow(X64Syscall.clock_nanosleep),
        SyscallRule.Allow(X64Syscall.clock_gettime),
        SyscallRule.Allow(X64Syscall.clock_getres),
        SyscallRule.Allow(X64Syscall.gettimeofday),
        SyscallRule.Allow(X64Syscall.getrandom),
        SyscallRule.Allow(X64Syscall.exit),
        SyscallRule.Allow(X64Syscall.exit_group),
        SyscallRule.Allow(X64Syscall.restart_syscall),

        // Signals: the runtime's GC suspension and its signal-handling thread; only to itself.
        SyscallRule.Allow(X64Syscall.rt_sigaction),
        SyscallRule.Allow(X64Syscall.rt_sigprocmask),
        SyscallRule.Allow(X64Syscall.rt_sigreturn),
        SyscallRule.Allow(X64Syscall.sigaltstack),
        SyscallRule.AllowIfArgumentIn(X64Syscall.tgkill, 0, (uint)pid),

        // Identity queries (no changes).
        SyscallRule.Allow(X64Syscall.getpid),
        SyscallRule.Allow(X64Syscall.getppid),
        SyscallRule.Allow(X64Syscall.gettid),
        SyscallRule.Allow(X64Syscall.getuid),
        SyscallRule.Allow(X64Syscall.geteuid),
        SyscallRule.Allow(X64Syscall.getgid),
        SyscallRule.Allow(X64Syscall.getegid),
        SyscallRule.Allow(X64Syscall.getresuid),
        SyscallRule.Allow(X64Syscall.getresgid),
        SyscallRule.Allow(X64Syscall.capget),
        SyscallRule.Allow(X64Syscall.uname),
        SyscallRule.Allow(X64Syscall.sysinfo),
        SyscallRule.AllowIfArgumentIn(X64Syscall.prlimit64, 2, 0), // new_limit == NULL: read only
        SyscallRule.AllowIfArgumentIn(X64Syscall.prctl, 0, AllowedPrctlOptions),

        // I/O on descriptors already open: the device (read-write serving included), /dev/fuse,
        // the socket, stdio. No call here creates a descriptor from a path or a network.
        SyscallRule.Allow(X64Syscall.read),
        SyscallRule.Allow(X64Syscall.write),
        SyscallRule.Allow(X64Syscall.readv),
        SyscallRule.Allow(X64Syscall.writev),
        SyscallRule.Allow(X64Syscall.pread64),
        SyscallRule.Allow(X64Syscall.pwrite64),
        SyscallRule.Allow(X64Syscall.preadv),
        SyscallRule.Allow(X64Syscall.pwritev),
        SyscallRule.Allow(X64Syscall.preadv2),
        SyscallRule.Allow(X64Syscall.pwritev2),
        SyscallRule.Allow(X64Syscall.lseek),
        SyscallRule.Allow(X64Syscall.fsync),
        SyscallRule.Allow(X64Syscall.fdatasync),
        SyscallRule.Allow(X64Syscall.close),
        SyscallRule.Allow(X64Syscall.fstat),
        SyscallRule.Allow(X64Syscall.newfstatat),
        SyscallRule.Allow(X64Syscall.statx),
        SyscallRule.Allow(X64Syscall.fcntl),
        SyscallRule.Allow(X64Syscall.pipe2), // the runtime's signal-handling pipe
        SyscallRule.AllowIfArgumentIn(X64Syscall.ioctl, 1, AllowedIoctls),
        SyscallRule.Allow(X64Syscall.poll),
        SyscallRule.Allow(X64Syscall.ppoll),
        SyscallRule.Allow(X64Syscall.recvmsg),
        SyscallRule.Allow(X64Syscall.sendmsg),
        SyscallRule.Allow(X64Syscall.shutdown),
        SyscallRule.Allow(X64Syscall.getsockopt),
    ];

    /// <summary>The BPF program for this process: architecture check, then <see cref="X64Rules"/>,
    /// then the default ERRNO(EPERM). Throws <see cref="SandboxException"/> on an architecture
    /// without a table.</summary>
    public static sock_filter[] Build(int pid)
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            throw new SandboxException("seccomp", $"no system call table for {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}; only x86_64 is supported");
        }

        return Compile(SeccompInterop.AUDIT_ARCH_X86_64, X64Rules(pid));
    }

    /// <summary>Compiles <paramref name="rules"/> for <paramref name="auditArch"/>. Layout:
    /// <code>
    ///   ld arch; jeq AUDIT_ARCH ? +1 : +0; ret KILL_PROCESS
    ///   ld nr;   jge X32_BIT ? +0 : +1;    ret KILL_PROCESS
    ///   per rule: jeq NR ? +0 : +len(block); block (always ends in ret)
    ///   ret ERRNO(EPERM)
    /// </code>
    /// Each block returns, so the accumulator holds nr again on every rule's false branch.</summary>
    public static sock_filter[] Compile(uint auditArch, IReadOnlyList<SyscallRule> rules)
    {
        var p = new List<sock_filter>
        {
            LoadWord(SeccompInterop.SeccompDataArchOffset),
            Jump(BpfJeq, auditArch, 1, 0),
            Return(SeccompInterop.SECCOMP_RET_KILL_PROCESS),
            LoadWord(SeccompInterop.SeccompDataNrOffset),
            Jump(BpfJge, X32SyscallBit, 0, 1),
            Return(SeccompInterop.SECCOMP_RET_KILL_PROCESS),
        };

        foreach (SyscallRule rule in rules)
        {
            List<sock_filter> block = Block(rule);
            p.Add(Jump(BpfJeq, (uint)rule.Nr, 0, checked((byte)block.Count)));
            p.AddRange(block);
        }

        p.Add(Return(Deny));
        if (p.Count > BpfMaxInstructions)
        {
            throw new SandboxException("seccomp", $"filter of {p.Count} instructions exceeds BPF_MAXINSNS");
        }

        return p.ToArray();
    }

    private const uint Deny = SeccompInterop.SECCOMP_RET_ERRNO | (uint)Errno.EPERM;

    /// <summary>BPF_MAXINSNS (linux/bpf_common.h).</summary>
    private const int BpfMaxInstructions = 4096;

    // linux/bpf_common.h opcodes.
    private const ushort BpfLdWAbs = 0x00 | 0x00 | 0x20;  // BPF_LD | BPF_W | BPF_ABS
    private const ushort BpfJeq = 0x05 | 0x10 | 0x00;     // BPF_JMP | BPF_JEQ | BPF_K
    private const ushort BpfJge = 0x05 | 0x30 | 0x00;     // BPF_JMP | BPF_JGE | BPF_K
    private const ushort BpfJset = 0x05 | 0x40 | 0x00;    // BPF_JMP | BPF_JSET | BPF_K
    private const ushort BpfRetK = 0x06 | 0x00;           // BPF_RET | BPF_K

    private static List<sock_filter> Block(SyscallRule rule)
    {
        switch (rule.Kind)
        {
            case SyscallRuleKind.Allow:
                return [Return(SeccompInterop.SECCOMP_RET_ALLOW)];
            case SyscallRuleKind.Fail:
                return [Return(SeccompInterop.SECCOMP_RET_ERRNO | ((uint)rule.Errno & SeccompInterop.SECCOMP_RET_DATA))];
            case SyscallRuleKind.ThreadsOnly:
                // flags is argument 0 (x86_64 clone(flags, stack, parent_tid, child_tid, tls)).
                return
                [
                    LoadWord(ArgLow(0)),
                    Jump(BpfJset, CloneNamespaceFlags, 2, 0),
                    Jump(BpfJset, CloneThread, 0, 1),
                    Return(SeccompInterop.SECCOMP_RET_ALLOW),
                    Return(Deny),
                ];
            case SyscallRuleKind.AllowIfArgumentIn:
                uint[] values = rule.Values ?? [];
                var block = new List<sock_filter>
                {
                    LoadWord(ArgLow(rule.Argument) + 4),
                    Jump(BpfJeq, 0, 0, checked((byte)(1 + (2 * values.Length)))),
                    LoadWord(ArgLow(rule.Argument)),
                };
                foreach (uint v in values)
                {
                    block.Add(Jump(BpfJeq, v, 0, 1));
                    block.Add(Return(SeccompInterop.SECCOMP_RET_ALLOW));
                }

                block.Add(Return(Deny));
                return block;
            default:
                throw new ArgumentOutOfRangeException(nameof(rule), rule.Kind, "unknown rule kind");
        }
    }

    /// <summary>Offset of the low 32 bits of args[<paramref name="index"/>] (little-endian; the high half is 4 bytes on).</summary>
    private static uint ArgLow(int index) => SeccompInterop.SeccompDataArgsOffset + (8 * (uint)index);

    private static sock_filter LoadWord(uint offset) => new(BpfLdWAbs, 0, 0, offset);

    private static sock_filter Jump(ushort op, uint k, byte jt, byte jf) => new(op, jt, jf, k);

    private static sock_filter Return(uint action) => new(BpfRetK, 0, 0, action);
}
