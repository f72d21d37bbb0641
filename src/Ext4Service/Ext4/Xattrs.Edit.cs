using System.Buffers.Binary;
using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

/// <summary>The read side of xattr editing: an inode's entries as <see cref="XattrLists"/>.</summary>
internal sealed partial class Xattrs
{
    /// <summary>Bytes from the first in-inode entry to the end of the inode; 0 without room for a body.</summary>
    public int BodyCapacity(Ext4Inode inode)
    {
        int start = InodeLayout.GoodOldInodeSize + inode.ExtraIsize + X.IbodyHeaderSize;
        return _v.InodeSize > InodeLayout.GoodOldInodeSize && start < _v.InodeSize ? _v.InodeSize - start : 0;
    }

    /// <summary>
    /// Both regions parsed and checked as the read path checks them; the block's h_refcount
    /// comes back in <paramref name="refcount"/> (0 when there is no block).
    /// </summary>
    public XattrLists ReadLists(Ext4Inode inode, out uint refcount)
    {
        var body = new List<XattrRecord>();
        if (InodeBody(inode) is var (region, entries))
        {
            body.AddRange(entries.Select(e => ToRecord(region, e)));
        }

        var block = new List<XattrRecord>();
        refcount = 0;
        if (inode.FileAcl != 0)
        {
            byte[] b = ReadXattrBlock(inode);
            refcount = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(X.h_refcount));
            block.AddRange(ParseEntries(inode, b, X.BlockHeaderSize, $"inode {inode.Number} xattr block {inode.FileAcl}").Select(e => ToRecord(b, e)));
        }

        return new XattrLists(body, BodyCapacity(inode), block, (int)_v.BlockSize - X.BlockHeaderSize);
    }

    private static XattrRecord ToRecord(byte[] region, Entry e) =>
        new(e.Index, e.Name, e.ValueInum != 0 ? null : region.AsSpan(e.ValueStart, e.ValueSize).ToArray(), e.ValueInum, (uint)e.ValueSize, e.Hash);
}
