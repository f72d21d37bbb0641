namespace Safemount.Shared.Protocol;

/// <summary>flags of MOUNT_REQUEST and MOUNT_ACCEPTED; bits not defined here must be zero (MOUNT_ACCEPTED defines only ReadOnly).</summary>
[Flags]
public enum MountRequestFlags : uint
{
    None = 0,

    /// <summary>Mount read-only (request), or the service forces read-only (accepted).</summary>
    ReadOnly = 1,

    /// <summary>
    /// Request only: a DIRECT_DEVICE message with the O_DIRECT fd of the device follows. Valid
    /// only when HELLO_REPLY agreed <see cref="HelloFlags.DirectDevice"/>, and never with
    /// <see cref="ReadOnly"/> (direct I/O serves file data writes only).
    /// </summary>
    DirectDevice = 2,

    Known = ReadOnly | DirectDevice,
}
