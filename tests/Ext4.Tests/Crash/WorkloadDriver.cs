using System.Text;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// Runs operations on a read-write volume over a <see cref="RecordingBlockDevice"/> and keeps
/// the <see cref="WorkloadModel"/> in step: each operation is stamped with the log position
/// before it, and must succeed. Paths are absolute ("/d0/f1"); directories are never renamed
/// (so a rename moves exactly one path), and protected files are only written, extended or
/// truncated, never renamed or removed.
/// </summary>
internal sealed class WorkloadDriver
{
    private readonly RecordingBlockDevice _device;

    /// <summary>Inode of every path that exists now, "/" included.</summary>
    private readonly Dictionary<string, uint> _inodes = new(StringComparer.Ordinal) { ["/"] = PathWalk.RootIno };

    /// <summary>The identity (<see cref="WorkloadModel"/>) of each inode the workload created, by inode number (reassigned when a number is reused).</summary>
    private readonly Dictionary<uint, uint> _identityOf = [];

    private uint _lastIdentity;

    /// <summary>Counts <see cref="Fill"/> calls: the second half of every data word, so each write's bytes differ.</summary>
    private uint _fills;

    /// <summary>Inodes an imagined open file descriptor holds (the engine keeps them as orphans when their last name goes); one thread only.</summary>
    private readonly HashSet<uint> _open = [];

    public WorkloadDriver(Ext4Volume volume, RecordingBlockDevice device, WorkloadModel model, Random rng)
    {
        Volume = volume;
        volume.IsReferenced = _open.Contains;
        _device = device;
        Model = model;
        Rng = rng;
    }

    public Ext4Volume Volume { get; }

    public WorkloadModel Model { get; }

    public Random Rng { get; }

    public bool Exists(string path) => _inodes.ContainsKey(path);

    public void Mkdir(string path)
    {
        int at = _device.Count;
        Check(Volume.Mkdir(Parent(path), Name(path), 0x1ED, 0, 0, out var created), "mkdir", path);
        _identityOf.Remove(created!.Number);
        Added(path, created.Number, at);
    }

    /// <summary>Creates an empty regular file; with <paramref name="protect"/> its contents are tracked and checked after every crash once synced.</summary>
    public void Create(string path, bool protect = false)
    {
        int at = _device.Count;
        Check(Volume.Create(Parent(path), Name(path), 0x1A4, 0, 0, out var created), "create", path);
        _identityOf[created!.Number] = ++_lastIdentity;
        Added(path, created.Number, at);
        if (protect)
        {
            Model.Protect(path).AddVersion([], at);
        }
    }

    /// <summary>
    /// Writes <paramref name="length"/> bytes at <paramref name="offset"/> that name the file:
    /// the file is a sequence of 8-byte words, each the file's identity (uint32 LE) and then
    /// this call's serial number. A block of another file, of metadata or of nothing shows up
    /// as a word naming another identity (stale data: what ordered mode forbids).
    /// </summary>
    public void Fill(string path, long offset, int length) =>
        WriteData(path, offset, Pattern(_identityOf[_inodes[path]], offset, length), patterned: true);

    /// <summary>Writes bytes of the caller's choosing (the file's data is then never judged by its pattern).</summary>
    public void Write(string path, long offset, byte[] data) => WriteData(path, offset, data, patterned: false);

    private byte[] Pattern(uint identity, long offset, int length)
    {
        uint serial = ++_fills;
        var data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            long at = offset + i;
            int k = (int)(at % 8);
            data[i] = (byte)((k < 4 ? identity : serial) >> (8 * (k % 4)));
        }

        return data;
    }

    private void WriteData(string path, long offset, byte[] data, bool patterned)
    {
        if (!patterned)
        {
            Model.FreeForm(_identityOf[_inodes[path]]);
        }

        int at = _device.Count;
        Check(Volume.WriteFile(_inodes[path], offset, data, out int written), "write", path);
        Assert.That(written, Is.EqualTo(data.Length), $"short write to {path}");
        if (Model.Durable(path) is { } file)
        {
            var next = file.Current;
            if (next.Length < offset + data.Length)
            {
                Array.Resize(ref next, (int)(offset + data.Length));
            }
            else
            {
                next = (byte[])next.Clone();
            }

            data.CopyTo(next, offset);
            file.AddVersion(next, at);
        }
    }

    public void Truncate(string path, long size)
    {
        int at = _device.Count;
        Check(Volume.SetSize(_inodes[path], size), "truncate", path);
        if (Model.Durable(path) is { } file)
        {
            // Truncating down zeroes the rest of the new last block in place (a data write, not
            // journaled): a crash may show it with the old size still on disk.
            int bs = (int)Volume.BlockSize;
            long tailEnd = Math.Min(file.Current.Length, (size + bs - 1) / bs * bs);
            if (size < tailEnd)
            {
                var zeroedTail = (byte[])file.Current.Clone();
                zeroedTail.AsSpan((int)size, (int)(tailEnd - size)).Clear();
                file.AddVersion(zeroedTail, at);
            }

            var next = file.Current.AsSpan(0, (int)Math.Min(size, file.Current.Length)).ToArray();
            Array.Resize(ref next, (int)size);
            file.AddVersion(next, at);
        }
    }

    public void Unlink(string path)
    {
        Assert.That(Model.Durable(path), Is.Null, $"{path} is protected");
        Check(Volume.Unlink(Parent(path), Name(path)), "unlink", path);
        _inodes.Remove(path);
    }

    public void Rmdir(string path)
    {
        Check(Volume.Rmdir(Parent(path), Name(path)), "rmdir", path);
        _inodes.Remove(path);
    }

    /// <summary>Renames a non-directory, replacing <paramref name="to"/> when it exists.</summary>
    public void Rename(string from, string to)
    {
        Assert.That(Model.Durable(from) ?? Model.Durable(to), Is.Null, $"{from} or {to} is protected");
        int at = _device.Count;
        Check(Volume.Rename(Parent(from), Name(from), Parent(to), Name(to), RenameFlags.None), "rename", $"{from} -> {to}");
        uint ino = _inodes[from];
        _inodes.Remove(from);
        Added(to, ino, at);
    }

    public void Link(string existing, string path)
    {
        int at = _device.Count;
        Check(Volume.Link(_inodes[existing], Parent(path), Name(path), out _), "link", path);
        Added(path, _inodes[existing], at);
    }

    public void Symlink(string path, string target)
    {
        int at = _device.Count;
        Check(Volume.Symlink(Parent(path), Name(path), Encoding.UTF8.GetBytes(target), 0, 0, out var created), "symlink", path);
        _identityOf.Remove(created!.Number);
        Added(path, created.Number, at);
    }

    public void SetXattr(string path, string name, byte[] value) =>
        Check(Volume.SetXattr(_inodes[path], name, value, XattrSetFlags.None), "setxattr", path);

    /// <summary>O_TMPFILE in <paramref name="dir"/>: an open inode without a name, on the orphan list.</summary>
    public uint TmpFile(string dir)
    {
        Check(Volume.CreateTmpFile(_inodes[dir], 0x81A4 /* S_IFREG | 0644 */, 0, 0, out var created), "tmpfile", dir);
        _identityOf[created!.Number] = ++_lastIdentity;
        _open.Add(created.Number);
        return created.Number;
    }

    /// <summary>Unlinks <paramref name="path"/> while it is held open: its inode stays, on the orphan list if that was its last name.</summary>
    public uint UnlinkOpen(string path)
    {
        uint ino = _inodes[path];
        _open.Add(ino);
        Unlink(path);
        return ino;
    }

    /// <summary>As <see cref="Fill"/>, through an open descriptor (no path: the inode may have none). Only for unprotected files.</summary>
    public void FillOpen(uint ino, long offset, int length)
    {
        Assert.That(_open, Does.Contain(ino));
        var data = Pattern(_identityOf[ino], offset, length);
        Check(Volume.WriteFile(ino, offset, data, out int written), "write", $"<{ino}>");
        Assert.That(written, Is.EqualTo(data.Length), $"short write to <{ino}>");
    }

    /// <summary>Gives an open O_TMPFILE inode a name (linkat with AT_EMPTY_PATH).</summary>
    public void LinkOpen(uint ino, string path)
    {
        int at = _device.Count;
        Check(Volume.Link(ino, Parent(path), Name(path), out _), "link", path);
        Added(path, ino, at);
    }

    /// <summary>The last close: an unlinked inode is freed now.</summary>
    public void Close(uint ino)
    {
        Assert.That(_open.Remove(ino), Is.True);
        Volume.ReleaseIfOrphan(ino);
    }

    /// <summary>syncfs: once it returns, everything before it is durable.</summary>
    public void Sync()
    {
        Volume.Sync();
        Model.Synced(_device.Count);
    }

    public byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        Rng.NextBytes(data);
        return data;
    }

    private void Added(string path, uint ino, int at)
    {
        _inodes[path] = ino;
        Model.Appeared(path, at);
        if (_identityOf.TryGetValue(ino, out uint identity))
        {
            Model.Named(path, identity);
        }
    }

    private uint Parent(string path) => _inodes[path[..Math.Max(1, path.LastIndexOf('/'))]];

    private static byte[] Name(string path) => Encoding.UTF8.GetBytes(path[(path.LastIndexOf('/') + 1)..]);

    private static void Check(Ext4Errno result, string op, string path) =>
        Assert.That(result, Is.EqualTo(Ext4Errno.None), $"{op} {path}");
}
