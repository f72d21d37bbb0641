using Safemount.Ext4.Allocation;

namespace Safemount.Ext4;

/// <summary>
/// File data operations of the read-write engine. Each public method takes the inode's lock
/// exclusive (shared for the seeks), then begins its own handle (lock levels 1 and 2), and
/// writes the inode record once at the end; FileData and the mapping editors do the work.
/// Expected failures come back as <see cref="Ext4Errno"/>: EROFS on a volume that cannot be
/// written (read-only, or bigalloc, whose cluster allocation is not implemented), EISDIR /
/// EINVAL for an inode that is not a regular file, EFBIG, ENOSPC. An inline-data file is
/// converted to blocks before any of these changes it (FileData.ConvertInline).
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/> of regular file
    /// <paramref name="ino"/> (past EOF leaves a hole; partial blocks keep their other bytes;
    /// new blocks are zero where not written); updates i_size, i_blocks, mtime and ctime.
    /// <paramref name="written"/> may be short of the length at ENOSPC. The caller's ids decide
    /// whether the reserved blocks may be used (ext4_has_free_clusters).
    /// </summary>
    public Ext4Errno WriteFile(uint ino, long offset, ReadOnlySpan<byte> data, out int written, uint callerUid = 0, uint callerGid = 0)
    {
        written = 0;
        if (offset < 0)
        {
            return Ext4Errno.EINVAL;
        }

        if (WriteRefusal is not null)
        {
            return Ext4Errno.EROFS;
        }

        using var held = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var rights = RightsOf(callerUid, callerGid);
        var before = ReadInode(ino);
        if (IsAppendOnly(before) && before.IsRegular)
        {
            var denied = AppendOnlyWriteKeepsData(before, before.Size, offset, data);
            if (denied != Ext4Errno.None)
            {
                return denied;
            }
        }

        var err = OpenRegular(tx, ino, rights, out var r, out bool converted, appendOnlyAllowed: true);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        err = FileData.Write(tx, r, offset, data, rights, out written);
        if (written > 0 || converted)
        {
            // i_version + 1 per write request: the kernel bumps it when a write changes the
            // coarse-clock mtime (inode_update_timestamps), which depends on timing; one per
            // request keeps its contract (it grows whenever the data changes).
            var (s, ns) = Now();
            r.SetMtime(s, ns);
            r.SetCtime(s, ns);
            r.Version++;
            WriteInode(tx, r);
        }

        return err;
    }

    /// <summary>
    /// Sets the size of regular file <paramref name="ino"/> (truncate down frees the blocks
    /// past the new end and zeroes the rest of the last block; up leaves a hole; an unchanged
    /// size still drops preallocated blocks past EOF, as ext4_setattr); mtime and ctime change
    /// when the size does.
    /// </summary>
    public Ext4Errno SetSize(uint ino, long size)
    {
        if (size < 0)
        {
            return Ext4Errno.EINVAL;
        }

        if (WriteRefusal is not null)
        {
            return Ext4Errno.EROFS;
        }

        using var held = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var err = OpenRegular(tx, ino, AllocationRights.User, out var r, out bool converted);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        bool resized = size != r.Size;
        err = FileData.SetSize(tx, r, size);
        if (err == Ext4Errno.None && resized)
        {
            var (s, ns) = Now();
            r.SetMtime(s, ns);
            r.SetCtime(s, ns);
            r.Version++; // ext4_setattr: a size change
        }

        if (err == Ext4Errno.None || converted)
        {
            WriteInode(tx, r);
        }

        return err;
    }

    /// <summary>
    /// fallocate(2) on regular file <paramref name="ino"/>: <paramref name="mode"/> 0,
    /// FALLOC_FL_KEEP_SIZE (1), FALLOC_FL_PUNCH_HOLE|KEEP_SIZE (3), FALLOC_FL_ZERO_RANGE (0x10,
    /// optionally with KEEP_SIZE); EOPNOTSUPP for anything else. mtime and ctime change.
    /// </summary>
    public Ext4Errno Fallocate(uint ino, int mode, long offset, long length, uint callerUid = 0, uint callerGid = 0)
    {
        if (WriteRefusal is not null)
        {
            return Ext4Errno.EROFS;
        }

        using var held = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var rights = RightsOf(callerUid, callerGid);
        // vfs_fallocate: an append-only file takes only modes that add blocks (0, KEEP_SIZE).
        var err = OpenRegular(tx, ino, rights, out var r, out bool converted, appendOnlyAllowed: (mode & ~FileData.FALLOC_FL_KEEP_SIZE) == 0);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        err = FileData.Fallocate(tx, r, mode, offset, length, rights, out bool changed);
        if (changed)
        {
            var (s, ns) = Now();
            r.SetMtime(s, ns);
            r.SetCtime(s, ns);
            r.Version++; // as a write: ext4_fallocate's timestamp update
        }

        if (changed || converted)
        {
            WriteInode(tx, r);
        }

        return err;
    }

    /// <summary>lseek(SEEK_DATA): the first data byte at or after <paramref name="offset"/>; ENXIO past EOF or when only holes follow.</summary>
    public Ext4Errno SeekData(uint ino, long offset, out long result)
    {
        using var held = InodeLocks.Acquire(ino, exclusive: false);
        return FileData.Seek(ReadInode(ino), offset, data: true, out result);
    }

    /// <summary>lseek(SEEK_HOLE): the first hole byte at or after <paramref name="offset"/> (EOF counts as a hole); ENXIO past EOF.</summary>
    public Ext4Errno SeekHole(uint ino, long offset, out long result)
    {
        using var held = InodeLocks.Acquire(ino, exclusive: false);
        return FileData.Seek(ReadInode(ino), offset, data: false, out result);
    }

    /// <summary>
    /// A mutable copy of regular file <paramref name="ino"/>, or why it cannot be edited as one.
    /// An inline-data file is converted to a block-mapped one first (in the record; the caller
    /// writes it when the operation succeeds).
    /// </summary>
    private Ext4Errno OpenRegular(Ext4Transaction tx, uint ino, AllocationRights rights, out InodeRecord record, out bool converted,
        bool appendOnlyAllowed = false)
    {
        record = null!;
        converted = false;
        var inode = ReadInode(ino);
        if (inode.IsDirectory)
        {
            return Ext4Errno.EISDIR;
        }

        if (!inode.IsRegular || inode.IsXattrValueInode)
        {
            return Ext4Errno.EINVAL;
        }

        var denied = MayChangeData(inode, appendOnlyAllowed);
        if (denied != Ext4Errno.None)
        {
            return denied;
        }

        record = InodeRecord.From(this, inode);
        if (!inode.HasInlineData)
        {
            return Ext4Errno.None;
        }

        var err = FileData.ConvertInline(tx, inode, record, rights);
        converted = err == Ext4Errno.None;
        return err;
    }
}
