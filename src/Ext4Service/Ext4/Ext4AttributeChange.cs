namespace Safemount.Ext4;

/// <summary>
/// The attribute changes of one setattr (struct iattr): a null field is left alone. Times are
/// seconds since the epoch and nanoseconds.
/// </summary>
public readonly record struct Ext4AttributeChange
{
    /// <summary>New permission bits (07777); the file type never changes.</summary>
    public ushort? Mode { get; init; }

    public uint? Uid { get; init; }

    public uint? Gid { get; init; }

    /// <summary>New size of a regular file (truncate down or extend with a hole).</summary>
    public long? Size { get; init; }

    public (long Seconds, uint Nanoseconds)? Atime { get; init; }

    public (long Seconds, uint Nanoseconds)? Mtime { get; init; }

    /// <summary>An explicit ctime; null: now, when anything changed (as notify_change stamps ia_ctime).</summary>
    public (long Seconds, uint Nanoseconds)? Ctime { get; init; }

    /// <summary>
    /// Atime/Mtime are times the caller chose (ATTR_ATIME_SET / ATTR_MTIME_SET), not "now"
    /// (utimensat with NULL or UTIME_NOW): an append-only inode takes only the latter.
    /// </summary>
    public bool TimesExplicit { get; init; }

    /// <summary>Clear S_ISUID, and S_ISGID when group-executable (ATTR_KILL_SUID / ATTR_KILL_SGID, should_remove_suid).</summary>
    public bool KillSuidGid { get; init; }
}
