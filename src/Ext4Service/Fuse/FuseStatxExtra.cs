namespace Safemount.Fuse;

/// <summary>What FUSE_STATX reports beyond <see cref="FuseAttr"/>: the birth time (ext4
/// i_crtime) when the file system has one.</summary>
public struct FuseStatxExtra
{
    /// <summary>Birth time, seconds since the epoch; valid only when <see cref="HasBtime"/>.</summary>
    public long Btime;

    /// <summary>Nanoseconds of <see cref="Btime"/>.</summary>
    public uint BtimeNsec;

    /// <summary>True: STATX_BTIME is set in the reply mask.</summary>
    public bool HasBtime;
}
