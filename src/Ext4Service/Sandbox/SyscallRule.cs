namespace Safemount.Ext4Service.Sandbox;

/// <summary>
/// One entry of a seccomp allowlist: the system call, what happens to it, and for
/// <see cref="SyscallRuleKind.AllowIfArgumentIn"/> which argument must hold which values.
/// </summary>
internal readonly record struct SyscallRule(int Nr, SyscallRuleKind Kind, int Argument = 0, uint[]? Values = null, int Errno = 0)
{
    public static SyscallRule Allow(X64Syscall nr) => new((int)nr, SyscallRuleKind.Allow);

    /// <summary>Allowed when argument <paramref name="argument"/> (all 64 bits) equals one of <paramref name="values"/>.</summary>
    public static SyscallRule AllowIfArgumentIn(X64Syscall nr, int argument, params uint[] values) =>
        new((int)nr, SyscallRuleKind.AllowIfArgumentIn, argument, values);

    /// <summary>clone: allowed only for a thread (CLONE_THREAD) and never with a CLONE_NEW* flag.</summary>
    public static SyscallRule ThreadsOnly(X64Syscall nr) => new((int)nr, SyscallRuleKind.ThreadsOnly);

    /// <summary>Denied with a specific errno instead of the default.</summary>
    public static SyscallRule Fail(X64Syscall nr, Safemount.Shared.Interop.Errno errno) =>
        new((int)nr, SyscallRuleKind.Fail, Errno: (int)errno);
}
