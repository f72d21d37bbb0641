using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>
/// seccomp(2) (kernel/seccomp.c) through syscall(2): glibc has no wrapper. The syscall number
/// and the audit architecture are per architecture; <see cref="NativeArch"/> names this
/// process's.
/// </summary>
public static unsafe partial class SeccompInterop
{
    public const uint SECCOMP_SET_MODE_FILTER = 1;

    /// <summary>Install the filter on every thread of the process, or fail naming the thread that cannot take it.</summary>
    public const uint SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;

    // linux/seccomp.h return actions (high 16 bits) and data mask.
    public const uint SECCOMP_RET_KILL_PROCESS = 0x80000000;
    public const uint SECCOMP_RET_ERRNO = 0x00050000;
    public const uint SECCOMP_RET_ALLOW = 0x7fff0000;
    public const uint SECCOMP_RET_DATA = 0x0000ffff;

    /// <summary>linux/audit.h: AUDIT_ARCH_X86_64 (EM_X86_64 | 64BIT | LE), AUDIT_ARCH_AARCH64.</summary>
    public const uint AUDIT_ARCH_X86_64 = 0xC000003E;
    public const uint AUDIT_ARCH_AARCH64 = 0xC00000B7;

    /// <summary>struct seccomp_data (linux/seccomp.h) offsets: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].</summary>
    public const uint SeccompDataNrOffset = 0;
    public const uint SeccompDataArchOffset = 4;
    public const uint SeccompDataArgsOffset = 16;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall3_(long number, nint arg1, nint arg2, nint arg3);

    /// <summary>__NR_seccomp for this process's architecture (x86_64 317, arm64 277); null elsewhere.</summary>
    public static long? SyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 317,
        Architecture.Arm64 => 277,
        _ => null,
    };

    /// <summary>seccomp(SECCOMP_SET_MODE_FILTER, flags, prog). With TSYNC a positive result is
    /// the id of a thread that could not be synchronised.</summary>
    public static void SetModeFilter(ReadOnlySpan<sock_filter> program, uint flags)
    {
        long nr = SyscallNumber ?? throw new ErrnoException("seccomp", Errno.ENOSYS);
        fixed (sock_filter* p = program)
        {
            sock_fprog prog = new() { len = checked((ushort)program.Length), filter = p };
            long r = syscall3_(nr, (nint)SECCOMP_SET_MODE_FILTER, (nint)flags, (nint)(&prog));
            if (r < 0)
            {
                throw ErrnoException.FromLastError("seccomp(SECCOMP_SET_MODE_FILTER)");
            }

            if (r > 0)
            {
                throw new ErrnoException($"seccomp(SECCOMP_SET_MODE_FILTER): thread {r} could not be synchronised", Errno.EBUSY);
            }
        }
    }
}
