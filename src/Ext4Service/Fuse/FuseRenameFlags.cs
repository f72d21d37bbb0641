namespace Safemount.Fuse;

/// <summary>renameat2(2) flags as FUSE_RENAME2 carries them (include/uapi/linux/fs.h); plain
/// FUSE_RENAME is <see cref="None"/>.</summary>
[Flags]
public enum FuseRenameFlags : uint
{
    None = 0,

    /// <summary>RENAME_NOREPLACE: fail with EEXIST if the new name exists.</summary>
    RENAME_NOREPLACE = 1U << 0,

    /// <summary>RENAME_EXCHANGE: swap the two names atomically (both must exist).</summary>
    RENAME_EXCHANGE = 1U << 1,

    /// <summary>RENAME_WHITEOUT: leave a whiteout (0:0 character device) at the old name.</summary>
    RENAME_WHITEOUT = 1U << 2,
}
