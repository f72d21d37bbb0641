using System.Buffers.Binary;
using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

/// <summary>
/// Applies xattr changes to an inode inside a handle (kernel: fs/ext4/xattr.c
/// ext4_xattr_set_handle, ext4_xattr_ibody_set, ext4_xattr_block_set, ext4_xattr_release_block).
/// The caller holds the inode's lock exclusive and owns the <see cref="InodeRecord"/>; the
/// in-inode area is rewritten in the record (written by the caller), the external block
/// through the handle:
/// <list type="bullet">
/// <item>an unshared block (h_refcount 1) is edited in place, freed when emptied (i_file_acl 0,
/// i_blocks less one block);</item>
/// <item>a shared block (h_refcount &gt; 1) is never edited: the inode gets a new block with the
/// new contents (or none) and the old block's refcount drops by one (copy on write);</item>
/// <item>a new block is allocated in the inode's group (ext4_xattr_block_set's goal).</item>
/// </list>
/// mbcache-style sharing of identical new blocks is not done (valid, only less compact).
/// <para>
/// A shared block has several owners, so its inode locks do not cover it: the decision "edit in
/// place / copy / drop a reference / free" and the refcount change happen under the block's
/// stripe lock (the kernel's lock_buffer in ext4_xattr_block_set and ext4_xattr_release_block).
/// Lock order: after the inode lock and the handle, before the allocator's group locks (a copy
/// allocates its block while holding it); one stripe at a time.
/// </para>
/// </summary>
internal sealed class XattrWriter
{
    private const int Stripes = 64; // power of two

    private readonly Ext4Volume _v;
    private readonly Lock[] _stripes;

    public XattrWriter(Ext4Volume volume)
    {
        _v = volume;
        _stripes = new Lock[Stripes];
        for (int i = 0; i < Stripes; i++)
        {
            _stripes[i] = new Lock();
        }
    }

    /// <summary>The stripe lock guarding xattr block <paramref name="block"/>'s refcount and contents.</summary>
    private Lock StripeOf(ulong block) => _stripes[(int)(block & (Stripes - 1))];

    /// <summary>
    /// Sets (<paramref name="value"/> non-null) or removes one xattr of <paramref name="inode"/>
    /// (the snapshot <paramref name="r"/> was made from). <paramref name="changed"/> tells
    /// whether anything was written (the caller then updates ctime and writes the record).
    /// </summary>
    public Ext4Errno Set(Ext4Transaction tx, Ext4Inode inode, InodeRecord r, byte index, byte[] name, byte[]? value,
        XattrSetFlags flags, AllocationRights rights, out bool changed)
    {
        if (inode.FileAcl == 0)
        {
            return SetLocked(tx, inode, r, index, name, value, flags, rights, out changed);
        }

        lock (StripeOf(inode.FileAcl))
        {
            return SetLocked(tx, inode, r, index, name, value, flags, rights, out changed);
        }
    }

    private Ext4Errno SetLocked(Ext4Transaction tx, Ext4Inode inode, InodeRecord r, byte index, byte[] name, byte[]? value,
        XattrSetFlags flags, AllocationRights rights, out bool changed)
    {
        var lists = _v.Xattrs.ReadLists(inode, out uint refcount);
        var err = lists.Apply(index, name, value, flags, out var next, out changed);
        if (err != Ext4Errno.None || !changed)
        {
            return err;
        }

        if (!next.Block.SequenceEqual(lists.Block))
        {
            err = WriteBlock(tx, r, next.Block, refcount, rights);
            if (err != Ext4Errno.None)
            {
                changed = false;
                return err;
            }
        }

        if (!next.Body.SequenceEqual(lists.Body))
        {
            WriteBody(r, next.Body);
        }

        return Ext4Errno.None;
    }

    /// <summary>ext4_xattr_ibody_set's result: the ibody magic when entries remain (0 otherwise), entries and values rewritten.</summary>
    private static void WriteBody(InodeRecord r, List<XattrRecord> body)
    {
        int start = InodeLayout.GoodOldInodeSize + r.ExtraIsize;
        Span<byte> raw = r.Raw;
        if (start + X.IbodyHeaderSize > raw.Length)
        {
            throw new InvalidOperationException($"inode {r.Number} has no in-inode xattr area");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(raw[start..], body.Count > 0 ? X.EXT4_XATTR_MAGIC : 0u);
        if (!XattrCodec.TryEncode(raw[(start + X.IbodyHeaderSize)..], 0, 0, body))
        {
            throw new InvalidOperationException($"inode {r.Number}: xattr body no longer fits");
        }
    }

    /// <summary>Gives the inode a block holding exactly <paramref name="records"/> (none: no block).</summary>
    private Ext4Errno WriteBlock(Ext4Transaction tx, InodeRecord r, List<XattrRecord> records, uint refcount, AllocationRights rights)
    {
        ulong old = r.FileAcl;
        uint bs = _v.BlockSize;
        if (records.Count == 0)
        {
            if (old != 0)
            {
                ReleaseLocked(tx, r);
            }

            return Ext4Errno.None;
        }

        var sorted = new List<XattrRecord>(records);
        if (old != 0 && refcount == 1)
        {
            tx.Modify(old, $"inode {r.Number} xattr block", b => Encode(b, old, sorted));
            return Ext4Errno.None;
        }

        var err = _v.BlockAllocator.Allocate(tx, FileData.InodeGoal(_v, r.Number, r.Mode), 1, rights, out ulong fresh, out _);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        tx.Create(fresh, $"inode {r.Number} xattr block", b => Encode(b, fresh, sorted));
        if (old != 0)
        {
            DropReference(tx, old, r.Number);
        }
        else
        {
            r.Blocks512 += bs / 512;
        }

        r.FileAcl = fresh;
        return Ext4Errno.None;
    }

    private void Encode(Span<byte> b, ulong blockNr, List<XattrRecord> sorted)
    {
        if (!XattrCodec.TryEncodeBlock(b, 1, sorted))
        {
            throw new InvalidOperationException("xattr block contents no longer fit");
        }

        if (_v.HasMetadataCsum)
        {
            XattrCodec.SetBlockChecksum(b, blockNr, _v.CsumSeed);
        }
    }

    /// <summary>ext4_xattr_release_block for an inode losing its block: refcount 1 frees it, more drops one reference.</summary>
    public void ReleaseBlock(Ext4Transaction tx, InodeRecord r)
    {
        if (r.FileAcl != 0)
        {
            lock (StripeOf(r.FileAcl))
            {
                ReleaseLocked(tx, r);
            }
        }
    }

    /// <summary>Drops the inode's reference to its block; the caller holds the block's stripe lock.</summary>
    private void ReleaseLocked(Ext4Transaction tx, InodeRecord r)
    {
        ulong old = r.FileAcl;
        byte[] b = _v.ReadMetadataBlock(old, $"inode {r.Number} xattr block");
        uint refcount = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(X.h_refcount));
        if (BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(X.h_magic)) != X.EXT4_XATTR_MAGIC || refcount == 0)
        {
            throw new Ext4CorruptionException($"inode {r.Number}: xattr block {old} has bad magic or refcount {refcount}");
        }

        if (refcount == 1)
        {
            tx.Forget(old);
            _v.BlockAllocator.Free(tx, old, 1);
        }
        else
        {
            DropReference(tx, old, r.Number);
        }

        r.FileAcl = 0;
        ulong sectors = _v.BlockSize / 512u;
        r.Blocks512 = r.Blocks512 >= sectors ? r.Blocks512 - sectors : throw new Ext4CorruptionException($"inode {r.Number}: i_blocks does not cover its xattr block");
    }

    /// <summary>h_refcount - 1 on a shared block (the block hash and entries stay), checksum refreshed.</summary>
    private void DropReference(Ext4Transaction tx, ulong block, uint owner)
    {
        bool csum = _v.HasMetadataCsum;
        uint seed = _v.CsumSeed;
        tx.Modify(block, $"inode {owner} shared xattr block", b =>
        {
            uint rc = BinaryPrimitives.ReadUInt32LittleEndian(b[X.h_refcount..]);
            BinaryPrimitives.WriteUInt32LittleEndian(b[X.h_refcount..], rc - 1);
            if (csum)
            {
                XattrCodec.SetBlockChecksum(b, block, seed);
            }
        });
    }
}
