namespace Safemount.Ext4;

/// <summary>
/// Reads by inode number that are safe beside writers: on a volume opened read-write they take the
/// inode's lock shared (lock order level 1), so a file's mapping or a directory's blocks cannot be
/// reorganised (and their blocks freed and reused) in the middle of the read. A volume opened
/// read-only never changes, so it reads without locks.
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>Reads the current inode <paramref name="ino"/> and copies its bytes from <paramref name="offset"/> (as <see cref="Read(Ext4Inode, long, Span{byte})"/>).</summary>
    public int ReadFile(uint ino, long offset, Span<byte> destination)
    {
        using var held = SharedLock(ino);
        return Read(ReadInode(ino), offset, destination);
    }

    /// <summary>The inode number of <paramref name="name"/> in directory <paramref name="dir"/> (0 when absent), with the directory locked shared; <paramref name="directory"/> is the directory as read under the lock.</summary>
    public uint Lookup(uint dir, ReadOnlySpan<byte> name, out Ext4Inode directory)
    {
        using var held = SharedLock(dir);
        directory = ReadInode(dir);
        return directory.IsDirectory ? Lookup(directory, name) : 0;
    }

    /// <summary>All live entries of directory <paramref name="dir"/> read under its shared lock; null when it is not a directory.</summary>
    public IReadOnlyList<Ext4DirEntry>? ReadDirectory(uint dir)
    {
        using var held = SharedLock(dir);
        var inode = ReadInode(dir);
        return inode.IsDirectory ? ReadDirectory(inode) : null;
    }

    /// <summary>The target of symlink <paramref name="ino"/> under its shared lock; null when it is not a symlink.</summary>
    public byte[]? ReadSymlink(uint ino)
    {
        using var held = SharedLock(ino);
        var inode = ReadInode(ino);
        return inode.IsSymlink ? ReadSymlink(inode) : null;
    }

    /// <summary>Full xattr names of inode <paramref name="ino"/>, read under its shared lock.</summary>
    public IReadOnlyList<string> ListXattrNames(uint ino)
    {
        using var held = SharedLock(ino);
        return ListXattrNames(ReadInode(ino));
    }

    /// <summary>The value of xattr <paramref name="fullName"/> of inode <paramref name="ino"/> (null when absent), read under its shared lock.</summary>
    public byte[]? GetXattr(uint ino, string fullName)
    {
        using var held = SharedLock(ino);
        return GetXattr(ReadInode(ino), fullName);
    }

    /// <summary>A shared hold on <paramref name="ino"/> for a volume opened read-write; nothing for one opened read-only.</summary>
    private InodeLockTable.Holder SharedLock(uint ino) =>
        _openedReadOnly ? default : InodeLocks.Acquire(ino, exclusive: false);
}
