namespace Safemount.Ext4Service.Sandbox;

/// <summary>What a <see cref="SyscallRule"/> does with its system call.</summary>
internal enum SyscallRuleKind
{
    Allow,
    AllowIfArgumentIn,
    ThreadsOnly,
    Fail,
}
