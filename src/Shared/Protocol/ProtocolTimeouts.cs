namespace Safemount.Shared.Protocol;

/// <summary>
/// The deadline of every wait on the socket. Defaults are the named constants; tests pass
/// shorter values.
/// </summary>
public sealed class ProtocolTimeouts
{
    /// <summary>Connecting, HELLO, FUSE_FD_ACCEPTED and every other short step.</summary>
    public static readonly TimeSpan DefaultStep = TimeSpan.FromSeconds(10);

    /// <summary>The service's answer to MOUNT_REQUEST: it reads the superblock and may replay the journal.</summary>
    public static readonly TimeSpan DefaultMountReply = TimeSpan.FromSeconds(30);

    /// <summary>READY after the mount syscall: the service answers FUSE_INIT.</summary>
    public static readonly TimeSpan DefaultReady = TimeSpan.FromSeconds(10);

    public static ProtocolTimeouts Default { get; } = new();

    public TimeSpan Step { get; init; } = DefaultStep;

    public TimeSpan MountReply { get; init; } = DefaultMountReply;

    public TimeSpan Ready { get; init; } = DefaultReady;
}
