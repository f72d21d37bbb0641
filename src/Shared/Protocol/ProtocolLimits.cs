namespace Safemount.Shared.Protocol;

/// <summary>
/// Named bounds of protocol version 1. Every length or count read from the peer is checked
/// against one of these before anything is sliced or allocated (docs/PROTOCOL.md §Limits).
/// </summary>
public static class ProtocolLimits
{
    /// <summary>Largest datagram either end sends or accepts, header included (bytes).</summary>
    public const int MaxMessageSize = 64 * 1024;

    /// <summary>Message header: u32 type tag + u32 body length (bytes).</summary>
    public const int HeaderSize = 8;

    /// <summary>Most fds one message may carry; only MOUNT_REQUEST and FUSE_FD carry one.</summary>
    public const int MaxFdsPerMessage = 1;

    /// <summary>Source and mountpoint paths, UTF-8 bytes (PATH_MAX without the NUL).</summary>
    public const int MaxPathBytes = 4095;

    /// <summary>The fs option string passed to the service, UTF-8 bytes.</summary>
    public const int MaxOptionsBytes = 4096;

    /// <summary>ERROR and ABORT reasons, UTF-8 bytes.</summary>
    public const int MaxReasonBytes = 1024;

    /// <summary>fs type ("fuseblk") and subtype ("safe.ext4"), UTF-8 bytes.</summary>
    public const int MaxFsTypeBytes = 32;

    /// <summary>Volume label as text, UTF-8 bytes (s_volume_name is 16 bytes; escaping may grow it).</summary>
    public const int MaxLabelBytes = 64;

    /// <summary>Filesystem UUID (bytes, exactly).</summary>
    public const int UuidBytes = 16;

    /// <summary>Warnings in MOUNT_ACCEPTED (count).</summary>
    public const int MaxWarnings = 16;

    /// <summary>One warning, UTF-8 bytes.</summary>
    public const int MaxWarningBytes = 256;
}
