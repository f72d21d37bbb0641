namespace Safemount.Shared.Protocol;

/// <summary>
/// HELLO flags (u32). Unknown bits are ignored by the service. The capability bits
/// (<see cref="DirectDevice"/>) are also the flags of an extended HELLO_REPLY: the service
/// answers with the subset it agrees to, and only to a helper that asked for one.
/// </summary>
[Flags]
public enum HelloFlags : uint
{
    None = 0,

    /// <summary>mount -s: the service should drop fs options it does not know, with a warning, instead of refusing.</summary>
    Sloppy = 1,

    /// <summary>
    /// Direct-I/O device capability. In HELLO: the helper can send a second fd of the device,
    /// opened O_DIRECT, in a DIRECT_DEVICE message after a MOUNT_REQUEST flagged
    /// <see cref="MountRequestFlags.DirectDevice"/>, and understands HELLO_REPLY {version, flags}.
    /// In HELLO_REPLY: the service accepts that message.
    /// </summary>
    DirectDevice = 2,

    /// <summary>The bits a service may answer in HELLO_REPLY (each only if the helper asked).</summary>
    ReplyCapabilities = DirectDevice,
}
