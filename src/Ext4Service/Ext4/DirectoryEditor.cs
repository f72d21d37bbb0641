using Safemount.Ext4.Format;
using D = Safemount.Ext4.Format.DirEntryLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// Adds, removes and retargets names in one block-based directory, linear or hash-indexed
/// (kernel: fs/ext4/namei.c ext4_add_entry, add_dirent_to_buf, make_indexed_dir,
/// ext4_dx_add_entry, do_split, ext4_delete_entry). Works through <see cref="IDirectoryBlocks"/>,
/// so the same code runs on the engine's transaction and on an in-memory block list in tests.
/// <para>
/// The caller holds the directory's inode lock exclusive for the editor's lifetime. Every step
/// leaves a valid directory: a block is allocated before anything points to it, so an ENOSPC
/// part-way leaves the names as they were. The index flag is never cleared: a malformed index
/// is <see cref="Ext4CorruptionException"/> (the kernel's fallback to a linear scan would lose
/// the index for good).
/// </para>
/// </summary>
internal sealed partial class DirectoryEditor
{
    private readonly IDirectoryBlocks _blocks;
    private readonly DirectoryEditorParams _p;
    private readonly int _bs;
    private readonly int _leafEnd;
    private bool _indexed;

    public DirectoryEditor(IDirectoryBlocks blocks, DirectoryEditorParams p)
    {
        _blocks = blocks;
        _p = p;
        _bs = blocks.BlockSize;
        _leafEnd = DirectoryBlock.EntriesEnd(_bs, p.MetadataCsum);
        _indexed = p.Indexed;
    }

    /// <summary>True once the directory is hash-indexed (it may become so during <see cref="Add"/>).</summary>
    public bool IsIndexed => _indexed;

    /// <summary>Where a live name is: its block, its record offset, and the record before it in that block (-1 for the first).</summary>
    public readonly record struct Location(uint Lblk, int Offset, int Previous, uint Inode);

    /// <summary>
    /// Adds (<paramref name="name"/> → <paramref name="ino"/>). Exists when the name is
    /// present, NoSpace when no block could be allocated or a full index is at its maximum depth.
    /// The name must have passed <see cref="DirectoryBlock.CheckName"/>.
    /// </summary>
    public DirEditResult Add(ReadOnlySpan<byte> name, uint ino, byte fileType)
    {
        if (DirectoryBlock.CheckName(name) is { } problem)
        {
            throw new ArgumentException($"name cannot be a directory entry: {problem}", nameof(name));
        }

        if (Locate(name) is not null)
        {
            return DirEditResult.Exists;
        }

        return _indexed ? DxAdd(name, ino, fileType) : LinearAdd(name, ino, fileType);
    }

    /// <summary>Removes <paramref name="name"/>; <paramref name="ino"/> is the inode it named.</summary>
    public DirEditResult Remove(ReadOnlySpan<byte> name, out uint ino)
    {
        ino = 0;
        if (Locate(name) is not { } at)
        {
            return DirEditResult.NotFound;
        }

        ino = at.Inode;
        ModifyLeaf(at.Lblk, b => DirectoryBlock.Remove(b, at.Offset, at.Previous, _leafEnd));
        return DirEditResult.Ok;
    }

    /// <summary>Points the existing <paramref name="name"/> at <paramref name="ino"/> (rename over a name); <paramref name="oldIno"/> is what it named.</summary>
    public DirEditResult Replace(ReadOnlySpan<byte> name, uint ino, byte fileType, out uint oldIno)
    {
        oldIno = 0;
        if (Locate(name) is not { } at)
        {
            return DirEditResult.NotFound;
        }

        oldIno = at.Inode;
        ModifyLeaf(at.Lblk, b => DirectoryBlock.SetInode(b, at.Offset, ino, fileType));
        return DirEditResult.Ok;
    }

    /// <summary>
    /// Points ".." at <paramref name="parent"/> (a directory moved to another parent). ".." is
    /// the second record of block 0 in both layouts (dx_root keeps the dot records).
    /// </summary>
    public void SetDotDot(uint parent)
    {
        byte[] b0 = ReadBlock0();
        var dot = DirectoryBlock.Walk(b0, 0, _indexed ? _bs : _leafEnd);
        int dd = dot.RecLen;
        var dotdot = DirectoryBlock.Walk(b0, dd, _indexed ? _bs : _leafEnd);
        if (!b0.AsSpan(0 + D.name, dot.NameLen).SequenceEqual("."u8) || !b0.AsSpan(dd + D.name, dotdot.NameLen).SequenceEqual(".."u8))
        {
            throw new Ext4CorruptionException("directory block 0 does not start with \".\" and \"..\"");
        }

        byte ft = b0[dd + D.file_type];
        ModifyLeaf(0, b => DirectoryBlock.SetInode(b, dd, parent, ft), dxRoot: _indexed);
    }

    /// <summary>The inode ".." names (block 0's second record).</summary>
    public uint DotDot()
    {
        byte[] b0 = ReadBlock0();
        var dot = DirectoryBlock.Walk(b0, 0, _indexed ? _bs : _leafEnd);
        return DirectoryBlock.Walk(b0, dot.RecLen, _indexed ? _bs : _leafEnd).Inode;
    }

    /// <summary>True when no name but "." and ".." is left (rmdir's ENOTEMPTY check, ext4_empty_dir).</summary>
    public bool IsEmpty()
    {
        for (uint lblk = 0; lblk < _blocks.Count; lblk++)
        {
            byte[]? b = _blocks.Read(lblk);
            if (b == null || (_indexed && (lblk == 0 || IsDxNode(b))))
            {
                continue;
            }

            VerifyLeaf(lblk, b);

            if (!DirectoryBlock.IsEmpty(b, 0, _leafEnd))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Finds the live record of <paramref name="name"/>, through the index when there is one.</summary>
    public Location? Locate(ReadOnlySpan<byte> name)
    {
        if (_indexed)
        {
            return DxLocate(name);
        }

        for (uint lblk = 0; lblk < _blocks.Count; lblk++)
        {
            byte[]? b = ReadLeaf(lblk);
            if (b == null)
            {
                continue;
            }

            int o = DirectoryBlock.Find(b, 0, _leafEnd, name, out int prev);
            if (o >= 0)
            {
                return new Location(lblk, o, prev, U32(b, o + D.inode));
            }
        }

        return null;
    }

    /// <summary>
    /// ext4_add_entry for a linear directory: the first block with room takes the name; a full
    /// single-block directory becomes indexed with dir_index (make_indexed_dir); otherwise a new
    /// block is appended.
    /// </summary>
    private DirEditResult LinearAdd(ReadOnlySpan<byte> name, uint ino, byte fileType)
    {
        uint count = _blocks.Count;
        for (uint lblk = 0; lblk < count; lblk++)
        {
            byte[]? b = ReadLeaf(lblk);
            if (b == null)
            {
                continue;
            }

            if (TryAddToLeaf(lblk, b, name, ino, fileType))
            {
                return DirEditResult.Ok;
            }

            if (count == 1 && _p.DirIndex)
            {
                if (!MakeIndexed(b))
                {
                    return DirEditResult.NoSpace;
                }

                return DxAdd(name, ino, fileType);
            }
        }

        byte[] nameCopy = name.ToArray();
        bool csum = _p.MetadataCsum;
        uint seed = _p.InodeSeed;
        bool appended = _blocks.TryAppend(
            b =>
            {
                DirectoryBlock.InitEmpty(b, csum);
                DirectoryBlock.Insert(b, 0, DirectoryBlock.EntriesEnd(b.Length, csum), nameCopy, ino, fileType);
                if (csum)
                {
                    DirectoryBlock.SetChecksum(b, seed);
                }
            },
            out _);
        return appended ? DirEditResult.Ok : DirEditResult.NoSpace;
    }

    /// <summary>add_dirent_to_buf: inserts into leaf <paramref name="lblk"/> when a slot fits; false when the leaf is full.</summary>
    private bool TryAddToLeaf(uint lblk, byte[] current, ReadOnlySpan<byte> name, uint ino, byte fileType)
    {
        int slot = DirectoryBlock.FindSlot(current, 0, _leafEnd, name, out bool exists);
        if (exists)
        {
            throw new InvalidOperationException("name appeared in the directory while its inode lock was held");
        }

        if (slot < 0)
        {
            return false;
        }

        byte[] nameCopy = name.ToArray();
        ModifyLeaf(lblk, b => DirectoryBlock.Insert(b, slot, _leafEnd, nameCopy, ino, fileType));
        return true;
    }

    /// <summary>A leaf (null for a hole), checked as ext4_read_dirblock checks one under metadata_csum: the tail, then the checksum.</summary>
    private byte[]? ReadLeaf(uint lblk)
    {
        byte[]? b = _blocks.Read(lblk);
        if (b != null)
        {
            VerifyLeaf(lblk, b);
        }

        return b;
    }

    private void VerifyLeaf(uint lblk, byte[] b)
    {
        if (!_p.MetadataCsum)
        {
            return;
        }

        int t = b.Length - D.TailSize;
        if (U32(b, t + D.det_reserved_zero1) != 0 || U16(b, t + D.det_rec_len) != D.TailSize
            || b[t + D.det_reserved_zero2] != 0 || b[t + D.det_reserved_ft] != D.EXT4_FT_DIR_CSUM)
        {
            throw new Ext4ChecksumException($"directory block {lblk}: no checksum tail in a leaf block");
        }

        uint computed = Crc32c.Append(_p.InodeSeed, b.AsSpan(0, t));
        if (computed != U32(b, t + D.det_checksum))
        {
            throw new Ext4ChecksumException($"directory block {lblk}: leaf checksum mismatch");
        }
    }

    /// <summary>Block 0, checked as a dx_root (indexed) or a leaf.</summary>
    private byte[] ReadBlock0()
    {
        if (_indexed)
        {
            byte[] root = _blocks.Read(0) ?? throw new Ext4CorruptionException("htree root block is a hole");
            VerifyDx(MakeFrame(0, root, RootEntries, RootLimit));
            return root;
        }

        return ReadLeaf(0) ?? throw new Ext4CorruptionException("directory block 0 is a hole");
    }

    /// <summary>Edits a leaf (or, for ".." of an indexed directory, the dx_root) and refreshes its checksum.</summary>
    private void ModifyLeaf(uint lblk, DirectoryBlockEdit edit, bool dxRoot = false)
    {
        bool csum = _p.MetadataCsum;
        uint seed = _p.InodeSeed;
        _blocks.Modify(lblk, b =>
        {
            edit(b);
            if (!csum)
            {
                return;
            }

            if (dxRoot)
            {
                SetDxChecksum(b, D.dx_root_info + D.DxRootInfoSize, seed);
            }
            else
            {
                DirectoryBlock.SetChecksum(b, seed);
            }
        });
    }
}
