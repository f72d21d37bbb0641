// TEMPORARY: compile-only stand-in for the lead's core API (RWCORE.txt) until main lands; deleted at the merge.
#pragma warning disable
namespace Safemount.Ext4;

internal delegate void BlockEdit(Span<byte> block);

internal sealed class Ext4Transaction : IDisposable
{
    public void Modify(ulong block, string what, BlockEdit edit) => throw new NotImplementedException();
    public void Create(ulong block, string what, BlockEdit edit) => throw new NotImplementedException();
    public void Forget(ulong block) => throw new NotImplementedException();
    public void WriteData(ulong block, int offsetInBlock, ReadOnlySpan<byte> data) => throw new NotImplementedException();
    public void ZeroData(ulong firstBlock, uint count) => throw new NotImplementedException();
    public void Dispose() { }
}

internal sealed class InodeRecord
{
    public static InodeRecord From(Ext4Inode inode) => throw new NotImplementedException();
    public static InodeRecord New(uint ino, ushort mode, uint generation) => throw new NotImplementedException();
    public uint Number { get; }
    public ushort Mode { get; set; }
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public long Size { get; set; }
    public ushort LinksCount { get; set; }
    public ulong Blocks512 { get; set; }
    public uint Flags { get; set; }
    public uint Generation { get; set; }
    public ulong FileAcl { get; set; }
    public ulong Version { get; set; }
    public Span<byte> IBlock => throw new NotImplementedException();
    public void SetMtime(long s, uint ns) { }
    public void SetCtime(long s, uint ns) { }
}

internal struct GroupCounters
{
    public uint bg_free_blocks_count;
    public uint bg_free_inodes_count;
    public uint bg_used_dirs_count;
    public uint bg_itable_unused;
    public ushort bg_flags;
    public uint bg_block_bitmap_csum;
    public uint bg_inode_bitmap_csum;
}

public enum Ext4Errno
{
    None = 0,
    ENOENT = 2,
    ENXIO = 6,
    EINVAL = 22,
    EISDIR = 21,
    EFBIG = 27,
    ENOSPC = 28,
    EROFS = 30,
    EOPNOTSUPP = 95,
}

internal sealed class InodeLockTable
{
    public IDisposable Exclusive(uint ino) => throw new NotImplementedException();
    public IDisposable Shared(uint ino) => throw new NotImplementedException();
}

public sealed partial class Ext4Volume
{
    internal Ext4Transaction Begin() => throw new NotImplementedException();
    internal Ext4Inode WriteInode(Ext4Transaction tx, InodeRecord r) => throw new NotImplementedException();
    internal GroupCounters ReadGroupCounters(uint group) => throw new NotImplementedException();
    internal void WriteGroupCounters(Ext4Transaction tx, uint group, in GroupCounters c) => throw new NotImplementedException();
    internal void AddFreeBlocks(long delta) => throw new NotImplementedException();
    internal void AddFreeInodes(long delta) => throw new NotImplementedException();
    internal long FreeBlocksCount => throw new NotImplementedException();
    internal long FreeInodesCount => throw new NotImplementedException();
    internal InodeLockTable InodeLocks => throw new NotImplementedException();
    public void Sync() => throw new NotImplementedException();
}
