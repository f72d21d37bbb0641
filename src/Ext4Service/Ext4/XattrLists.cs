namespace Safemount.Ext4;

/// <summary>
/// An inode's xattrs as two editable lists: the in-inode body (unsorted, in on-disk order)
/// and the external block (sorted when written), each with its capacity in bytes from the
/// first entry to the region's end (<see cref="XattrCodec.Space"/> must not exceed it).
/// </summary>
/// <param name="Body">in-inode entries ("system.data" of inline data included).</param>
/// <param name="BodyCapacity">s_inode_size - 128 - i_extra_isize - 4 (the ibody magic); 0 when there is no room.</param>
/// <param name="Block">entries of the i_file_acl block (empty when there is none).</param>
/// <param name="BlockCapacity">block size - 32 (the header).</param>
internal sealed record XattrLists(List<XattrRecord> Body, int BodyCapacity, List<XattrRecord> Block, int BlockCapacity)
{
    /// <summary>
    /// ext4_xattr_set_handle's placement: a new or changed value goes into the inode body if it
    /// fits there (and leaves the block), else into the block (and leaves the body), else
    /// ENOSPC; removal takes it from where it is. XATTR_CREATE/REPLACE give EEXIST/ENODATA,
    /// removing an absent name ENODATA. Setting the value it already has changes nothing
    /// (<paramref name="changed"/> false), as ext4_xattr_value_same short-cuts.
    /// </summary>
    public Ext4Errno Apply(byte index, byte[] name, byte[]? value, XattrSetFlags flags, out XattrLists next, out bool changed)
    {
        next = this;
        changed = false;
        int bi = Body.FindIndex(r => r.Matches(index, name));
        int bk = Block.FindIndex(r => r.Matches(index, name));
        bool exists = bi >= 0 || bk >= 0;
        if ((bi >= 0 && Body[bi].ValueInum != 0) || (bk >= 0 && Block[bk].ValueInum != 0))
        {
            // Releasing an EA inode (its refcount, its blocks) is not implemented: refuse rather than leak it.
            return Ext4Errno.EOPNOTSUPP;
        }

        if ((flags & XattrSetFlags.Create) != 0 && exists)
        {
            return Ext4Errno.EEXIST;
        }

        if ((flags & XattrSetFlags.Replace) != 0 && !exists)
        {
            return Ext4Errno.ENODATA;
        }

        if (value == null)
        {
            if (!exists)
            {
                return Ext4Errno.ENODATA;
            }

            next = this with { Body = Without(Body, bi), Block = Without(Block, bk) };
            changed = true;
            return Ext4Errno.None;
        }

        if ((bi >= 0 && Same(Body[bi], value)) || (bk >= 0 && Same(Block[bk], value)))
        {
            return Ext4Errno.None;
        }

        var record = XattrRecord.Inline(index, name, value);
        var body = Put(Body, bi, record);
        if (XattrCodec.Space(body) <= BodyCapacity)
        {
            next = this with { Body = body, Block = Without(Block, bk) };
            changed = true;
            return Ext4Errno.None;
        }

        var block = Put(Block, bk, record);
        if (XattrCodec.Space(block) <= BlockCapacity)
        {
            next = this with { Body = Without(Body, bi), Block = block };
            changed = true;
            return Ext4Errno.None;
        }

        return Ext4Errno.ENOSPC;
    }

    private static bool Same(XattrRecord r, byte[] value) =>
        r.ValueInum == 0 && r.Value is { } v && v.AsSpan().SequenceEqual(value);

    private static List<XattrRecord> Without(List<XattrRecord> list, int i)
    {
        var copy = new List<XattrRecord>(list);
        if (i >= 0)
        {
            copy.RemoveAt(i);
        }

        return copy;
    }

    /// <summary>Replaces entry <paramref name="i"/> in place, or appends (ext4 adds new in-inode entries last).</summary>
    private static List<XattrRecord> Put(List<XattrRecord> list, int i, XattrRecord r)
    {
        var copy = new List<XattrRecord>(list);
        if (i >= 0)
        {
            copy[i] = r;
        }
        else
        {
            copy.Add(r);
        }

        return copy;
    }
}
