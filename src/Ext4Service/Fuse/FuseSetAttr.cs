namespace Safemount.Fuse;

/// <summary>
/// A decoded FUSE_SETATTR: <see cref="Valid"/> names the fields to apply; the others are
/// whatever the kernel sent (zero) and must be ignored. Times are seconds since the epoch plus
/// nanoseconds; with FATTR_ATIME_NOW / FATTR_MTIME_NOW the file system uses its own clock instead.
/// </summary>
public readonly record struct FuseSetAttr(
    FuseSetAttrValid Valid,
    ulong Fh,
    ulong Size,
    ulong LockOwner,
    long Atime,
    uint AtimeNsec,
    long Mtime,
    uint MtimeNsec,
    long Ctime,
    uint CtimeNsec,
    uint Mode,
    uint Uid,
    uint Gid)
{
    /// <summary>True when every bit of <paramref name="bits"/> is in <see cref="Valid"/>.</summary>
    public bool Has(FuseSetAttrValid bits) => (this.Valid & bits) == bits;
}
