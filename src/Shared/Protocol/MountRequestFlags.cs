namespace Safemount.Shared.Protocol;

/// <summary>flags of MOUNT_REQUEST and MOUNT_ACCEPTED; bits not defined here must be zero.</summary>
[Flags]
public enum MountRequestFlags : uint
{
    None = 0,

    /// <summary>Mount read-only (request), or the service forces read-only (accepted).</summary>
    ReadOnly = 1,

    Known = ReadOnly,
}
