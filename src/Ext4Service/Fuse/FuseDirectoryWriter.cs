using System.Runtime.InteropServices;
using Safemount.Fuse.Abi;

namespace Safemount.Fuse;

/// <summary>
/// Appends fuse_dirent (READDIR) or fuse_direntplus (READDIRPLUS) records to a reply buffer.
/// Each record is 8-byte aligned with zeroed padding. A record that does not fit is not written
/// at all and <c>TryAdd*</c> returns false; the file system must then stop and, for
/// READDIRPLUS, must not count a lookup for that entry.
/// </summary>
public ref struct FuseDirectoryWriter
{
    private readonly Span<byte> buffer;
    private readonly bool plus;
    private readonly (ulong Seconds, uint Nanoseconds) entryValid;
    private readonly (ulong Seconds, uint Nanoseconds) attrValid;

    /// <summary>fuse_attr.flags added to regular files (FUSE_ATTR_IOMAP | FUSE_ATTR_EXCLUSIVE
    /// under fuse-iomap, else 0).</summary>
    private readonly uint regularFileAttrFlags;
    private int length;

    /// <summary>Writes into <paramref name="buffer"/> (the READDIR size the kernel asked for).
    /// <paramref name="plus"/> selects fuse_direntplus records; the timeouts go into each
    /// record's fuse_entry_out.</summary>
    public FuseDirectoryWriter(Span<byte> buffer, bool plus, TimeSpan entryTimeout, TimeSpan attrTimeout)
        : this(buffer, plus, FuseTimeout.Split(entryTimeout), FuseTimeout.Split(attrTimeout))
    {
    }

    /// <summary>As above, with timeouts the session has already split (READDIR hot path) and
    /// the negotiated regular-file attr flags.</summary>
    internal FuseDirectoryWriter(Span<byte> buffer, bool plus, (ulong Seconds, uint Nanoseconds) entryValid, (ulong Seconds, uint Nanoseconds) attrValid, uint regularFileAttrFlags = 0)
    {
        this.buffer = buffer;
        this.plus = plus;
        this.entryValid = entryValid;
        this.attrValid = attrValid;
        this.regularFileAttrFlags = regularFileAttrFlags;
        this.length = 0;
    }

    /// <summary>Bytes written so far (a multiple of 8).</summary>
    public readonly int Length => this.length;

    /// <summary>True when records must be added with <see cref="TryAddPlus"/>.</summary>
    public readonly bool IsPlus => this.plus;

    /// <summary>Total size of one fuse_dirent record with a name of <paramref name="nameLength"/> bytes.</summary>
    public static int DirentSize(int nameLength) => Align8(FuseAbi.FUSE_NAME_OFFSET + nameLength);

    /// <summary>Total size of one fuse_direntplus record with a name of <paramref name="nameLength"/> bytes.</summary>
    public static int DirentPlusSize(int nameLength) => Align8(FuseAbi.FUSE_NAME_OFFSET_DIRENTPLUS + nameLength);

    /// <summary>Appends a fuse_dirent. <paramref name="nextOffset"/> is the cookie after this
    /// entry; <paramref name="type"/> a DT_* value.</summary>
    public bool TryAdd(ulong ino, ulong nextOffset, uint type, ReadOnlySpan<byte> name)
    {
        if (this.plus)
        {
            throw new InvalidOperationException("READDIRPLUS reply: use TryAddPlus");
        }

        CheckName(name);
        int size = DirentSize(name.Length);
        if (size > this.buffer.Length - this.length)
        {
            return false;
        }

        Span<byte> record = this.buffer.Slice(this.length, size);
        WriteDirent(record, ino, nextOffset, type, name);
        this.length += size;
        return true;
    }

    /// <summary>Appends a fuse_direntplus. <paramref name="entry"/>.NodeId 0 sends no
    /// attributes (the kernel then counts no lookup), as for "." and "..".</summary>
    public bool TryAddPlus(in FuseEntry entry, ulong nextOffset, uint type, ReadOnlySpan<byte> name)
    {
        if (!this.plus)
        {
            throw new InvalidOperationException("READDIR reply: use TryAdd");
        }

        CheckName(name);
        int size = DirentPlusSize(name.Length);
        if (size > this.buffer.Length - this.length)
        {
            return false;
        }

        Span<byte> record = this.buffer.Slice(this.length, size);
        FuseEntryOut entryOut = entry.NodeId != 0 ? FuseSession.MakeEntryOut(entry, this.entryValid, this.attrValid, this.regularFileAttrFlags) : default;
        MemoryMarshal.Write(record, in entryOut);
        WriteDirent(record[FuseEntryOut.SizeOf..], entry.Attr.Ino, nextOffset, type, name);
        this.length += size;
        return true;
    }

    private static int Align8(int n) => (n + 7) & ~7;

    private static void CheckName(ReadOnlySpan<byte> name)
    {
        // Programmer error, not bad input: names come from the file system.
        if (name.IsEmpty || name.Length > FuseAbi.NameMax)
        {
            throw new ArgumentOutOfRangeException(nameof(name), name.Length, "directory entry name length");
        }
    }

    /// <summary>Writes fuse_dirent + name + zero padding into <paramref name="record"/>, which
    /// is exactly Align8(24 + name.Length) bytes.</summary>
    private static void WriteDirent(Span<byte> record, ulong ino, ulong nextOffset, uint type, ReadOnlySpan<byte> name)
    {
        var dirent = new FuseDirent
        {
            Ino = ino,
            Off = nextOffset,
            Namelen = (uint)name.Length,
            Type = type,
        };
        MemoryMarshal.Write(record, in dirent);
        name.CopyTo(record[FuseDirent.SizeOf..]);
        record[(FuseDirent.SizeOf + name.Length)..].Clear();
    }
}
