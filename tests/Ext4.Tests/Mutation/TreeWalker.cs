using System.Text;

namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// Walks a (mutated) image through every public engine entry point: Open, StatFs, ReadInode,
/// ReadDirectory, Lookup of every name, of "." and "..", and of absent and over-long names,
/// Read of every regular file at several offsets (0, a block in, near i_size, at i_size, far
/// beyond EOF and near the largest offset), ReadSymlink, ListXattrNames, GetXattr of every
/// name and of an absent one, and ReadInode of numbers the directory never gives (0, 1,
/// reserved, s_inodes_count and beyond). Visited inodes are tracked (as find(1) does), so a
/// directory loop made by the mutation cannot make the walk itself endless; the number of
/// inodes is capped as well. Engine typed errors are tallied; anything else is recorded as
/// unexpected and ends the walk.
/// </summary>
internal static class TreeWalker
{
    private const int MaxInodes = 2000;
    private static readonly byte[] Absent = "surely-absent-name"u8.ToArray();
    private static readonly byte[] TooLong = Encoding.ASCII.GetBytes(new string('z', 256));

    public static WalkResult Walk(Ext4.Storage.IBlockDevice device, byte[] buffer, uint inodesCountHint)
    {
        var result = new WalkResult();
        Ext4Volume volume;
        try
        {
            volume = Ext4Volume.Open(device, new Ext4OpenOptions { CacheBytes = 1 << 20 });
        }
        catch (Ext4MountException e)
        {
            result.Kind = OutcomeKind.Refused;
            result.RefusedBecause = e.Message;
            return result;
        }
        catch (Exception e)
        {
            result.Unexpected = $"Open: {e}";
            return result;
        }

        using var v = volume;
        bool Try(string op, Action a)
        {
            result.Operations++;
            try
            {
                a();
                return true;
            }
            catch (Ext4CorruptionException e)
            {
                result.Typed(op, e);
            }
            catch (Ext4IOException e)
            {
                result.Typed(op, e);
            }

            return false;
        }

        try
        {
            Try("StatFs", () => v.StatFs());
            // Numbers no directory may give: always a corruption error, whatever the damage (they do not change the class).
            foreach (uint bad in new[] { 0u, v.Sb.s_inodes_count + 1, uint.MaxValue })
            {
                if (bad != 0 && bad <= v.Sb.s_inodes_count)
                {
                    continue; // s_inodes_count + 1 wrapped
                }

                try
                {
                    v.ReadInode(bad);
                    result.Unexpected = $"ReadInode({bad}) succeeded with s_inodes_count {v.Sb.s_inodes_count}";
                    return result;
                }
                catch (Ext4CorruptionException)
                {
                }
            }

            // Reserved and unused numbers (bad blocks inode, resize, journal, the last inode): a
            // typed error or an inode, either is fine and neither changes the class.
            foreach (uint reserved in new[] { 1u, 7u, 8u, inodesCountHint })
            {
                try
                {
                    v.ReadInode(reserved);
                }
                catch (Ext4CorruptionException)
                {
                }
                catch (Ext4IOException)
                {
                }
            }

            var seen = new HashSet<uint>();
            var queue = new Queue<uint>([2u]);
            while (queue.Count > 0 && seen.Count < MaxInodes)
            {
                uint ino = queue.Dequeue();
                if (!seen.Add(ino))
                {
                    continue;
                }

                Ext4Inode? inode = null;
                if (!Try("ReadInode", () => inode = v.ReadInode(ino)) || inode == null)
                {
                    continue;
                }

                Try("Xattrs", () =>
                {
                    foreach (var name in v.ListXattrNames(inode))
                    {
                        v.GetXattr(inode, name);
                    }

                    v.GetXattr(inode, "user.surely-absent");
                });

                if (inode.IsDirectory)
                {
                    IReadOnlyList<Ext4DirEntry>? entries = null;
                    Try("ReadDirectory", () => entries = v.ReadDirectory(inode));
                    foreach (var e in entries ?? [])
                    {
                        Try("Lookup", () => v.Lookup(inode, e.Name));
                        queue.Enqueue(e.Inode);
                    }

                    Try("Lookup(absent)", () => v.Lookup(inode, Absent));
                    Try("Lookup(long)", () => v.Lookup(inode, TooLong));
                    Try("Lookup(.)", () => v.Lookup(inode, "."u8));
                    Try("Lookup(..)", () =>
                    {
                        uint parent = v.Lookup(inode, ".."u8);
                        if (parent != 0)
                        {
                            queue.Enqueue(parent);
                        }
                    });
                }
                else if (inode.IsSymlink)
                {
                    Guarded(v, device, inode, result, () => Try("ReadSymlink", () => v.ReadSymlink(inode)));
                }
                else if (inode.IsRegular)
                {
                    Guarded(v, device, inode, result, () => ReadAround(v, inode, buffer, Try));
                }

                if (result.Unexpected != null)
                {
                    return result;
                }
            }
        }
        catch (Exception e)
        {
            result.Unexpected = e.ToString();
        }

        return result;
    }

    /// <summary>
    /// "Bytes from outside the file": runs a file read with the device's read log armed and
    /// records as unexpected any block it touched that lies past s_blocks_count or in the
    /// system zone (superblocks, descriptors, bitmaps, inode tables, the journal) of the volume
    /// as the engine itself sees it. The zone is built first, outside the log, since building it
    /// reads the journal inode.
    /// </summary>
    private static void Guarded(Ext4Volume v, Ext4.Storage.IBlockDevice device, Ext4Inode inode, WalkResult result, Action read)
    {
        if (device is not MutatedImage img)
        {
            read();
            return;
        }

        SystemZone zone;
        try
        {
            zone = v.Zone;
        }
        catch (Ext4CorruptionException)
        {
            read(); // no zone: every mapping fails its check anyway
            return;
        }

        var log = new List<(long Offset, int Length)>();
        img.ReadLog = log;
        try
        {
            read();
        }
        finally
        {
            img.ReadLog = null;
        }

        foreach (var (offset, length) in log)
        {
            ulong first = (ulong)offset / v.BlockSize;
            ulong count = (((ulong)offset + (ulong)length + v.BlockSize - 1) / v.BlockSize) - first;
            if (first + count > v.Sb.s_blocks_count || !zone.IsValid(first, count, inode.Number))
            {
                result.Unexpected ??= $"reading inode {inode.Number} touched blocks {first}-{first + count - 1}, outside the file system or in the system zone";
            }
        }
    }

    private static void ReadAround(Ext4Volume v, Ext4Inode inode, byte[] buffer, Func<string, Action, bool> attempt)
    {
        long size = inode.Size;
        long[] offsets = [0, 4096, 65536, size / 2, size - 1, size - 10, size, size + 4096, 1L << 40, long.MaxValue - 10];
        foreach (long o in offsets)
        {
            if (o < 0)
            {
                continue;
            }

            attempt("Read", () =>
            {
                int n = v.Read(inode, o, buffer);
                if (n < 0 || n > buffer.Length || (o >= size && n != 0) || (o < size && n != Math.Min(buffer.Length, size - o)))
                {
                    throw new InvalidOperationException($"Read of inode {inode.Number} (i_size {size}) at {o} returned {n}");
                }
            });
        }
    }
}
