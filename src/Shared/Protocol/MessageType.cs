namespace Safemount.Shared.Protocol;

/// <summary>The u32 type tag at offset 0 of every message (docs/PROTOCOL.md §Messages).</summary>
public enum MessageType : uint
{
    /// <summary>helper → service: {min_version, max_version, flags}.</summary>
    Hello = 1,

    /// <summary>service → helper: {version}.</summary>
    HelloReply = 2,

    /// <summary>helper → service, carries the device fd.</summary>
    MountRequest = 3,

    /// <summary>service → helper: mount parameters.</summary>
    MountAccepted = 4,

    /// <summary>helper → service, carries the /dev/fuse fd.</summary>
    FuseFd = 5,

    /// <summary>service → helper: the service is reading /dev/fuse.</summary>
    FuseFdAccepted = 6,

    /// <summary>service → helper: FUSE_INIT answered.</summary>
    Ready = 7,

    /// <summary>either way: {code, reason}; ends the exchange.</summary>
    Error = 8,

    /// <summary>helper → service: {reason}; the helper's mount failed.</summary>
    Abort = 9,

    /// <summary>
    /// helper → service, empty body, carries a second fd of the device opened O_DIRECT (read-write);
    /// only right after a MOUNT_REQUEST flagged DirectDevice, which needs the capability agreed in HELLO.
    /// </summary>
    DirectDevice = 10,
}
