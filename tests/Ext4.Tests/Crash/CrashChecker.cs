using System.Buffers.Binary;
using Safemount.Ext4.Storage;
using Safemount.Ext4.Tests.Journal;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// Judges one crash state: writes it to an image file, recovers it as a read-write mount does
/// (<see cref="Recover"/>), requires <c>e2fsck -fn</c> to be clean, and
/// reopens read-only to walk the whole tree (every inode, directory, file body, symlink and
/// xattr read without exception), to find no path the workload had not created by the state's
/// limit, no file showing data that was never written to it (ordered mode), and every protected
/// file synced before the state's prefix with an acceptable content.
/// </summary>
internal sealed class CrashChecker(CrashRecording recording)
{
    /// <summary>What separates a path from its inode in a <see cref="TreeSnapshot"/> directory-entry line.</summary>
    public const string EntryMarker = " -> ino ";

    /// <summary>Sparse-write granularity: runs of zeros this long are left as holes.</summary>
    private const int SparseChunk = 64 << 10;

    /// <summary>Null when <paramref name="state"/> recovers cleanly with nothing lost, else what went wrong (first line: the category).</summary>
    public string? Check(CrashState state, string imagePath) =>
        CheckImage(state.Apply(recording.BaseImage, recording.Log, recording.BlockSize), state, imagePath);

    /// <summary>As <see cref="Check"/>, for an image derived from <paramref name="state"/> (e.g. by an interrupted recovery): the model judges it as that state.</summary>
    public string? CheckImage(byte[] image, CrashState state, string imagePath)
    {
        WriteSparse(imagePath, image);
        try
        {
            var handle = File.OpenHandle(imagePath, FileMode.Open, FileAccess.ReadWrite);
            using var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true);
            if (Recover(device) is { } refused)
            {
                return refused;
            }
        }
        catch (Exception e)
        {
            return $"recovery threw {e.GetType().Name}: {e.Message}";
        }

        if (!Tool.FsckClean(imagePath, out string fsck))
        {
            return "e2fsck -fn after recovery is not clean:\n" + string.Join('\n', fsck.Split('\n').Take(25));
        }

        try
        {
            return Verify(imagePath, state);
        }
        catch (Exception e)
        {
            return $"reading the recovered tree threw {e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/>, skipping all-zero chunks (a sparse file).</summary>
    public static void WriteSparse(string path, byte[] image)
    {
        using var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
        RandomAccess.SetLength(handle, image.Length);
        for (int at = 0; at < image.Length; at += SparseChunk)
        {
            var chunk = image.AsSpan(at, Math.Min(SparseChunk, image.Length - at));
            if (chunk.ContainsAnyExcept((byte)0))
            {
                RandomAccess.Write(handle, chunk, at);
            }
        }
    }

    /// <summary>
    /// What a read-write mount does before serving (MountService): Open read-write (replaying a
    /// journal that needs recovery), the root inode, CleanupOrphans from disk; then a clean
    /// Unmount. Null when it all worked, else why the mount was refused.
    /// </summary>
    public static string? Recover(IWritableBlockDevice device)
    {
        Ext4Volume volume;
        try
        {
            volume = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false });
        }
        catch (Ext4MountException e)
        {
            return $"recovery refused the mount: {e.Message}";
        }

        using (volume)
        {
            if (volume.IsReadOnly)
            {
                return $"recovery opened the volume read-only: {string.Join("; ", volume.Warnings)}";
            }

            if (!volume.ReadInode(PathWalk.RootIno).IsDirectory)
            {
                return "recovery: the root inode is not a directory";
            }

            volume.CleanupOrphans(loadFromDisk: true);
            volume.Unmount();
        }

        return null;
    }

    /// <summary>
    /// Ordered mode: a file shows only data written to it (or zeros). Every 8-byte word of a
    /// file the workload filled (<see cref="WorkloadDriver.Fill"/>) starts with the identity of
    /// a file that <paramref name="path"/> named; a word whose identity bytes are each zero or
    /// that identity's byte passes too (a write that began inside the word next to a hole).
    /// </summary>
    private static string? StaleData(Ext4Volume v, string path, IReadOnlySet<uint> identities)
    {
        var inode = v.ReadInode(PathWalk.Resolve(v, path));
        if (!inode.IsRegular)
        {
            return null;
        }

        byte[] data = PathWalk.ReadAll(v, inode);
        for (int at = 0; at + 4 <= data.Length; at += 8)
        {
            uint word = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at));
            if (word != 0 && !identities.Any(id => Masked(word, id)))
            {
                return $"stale data: {path} bytes [{at},{at + 8}) name file identity {word} (0x{word:x8}), not one of the files this path named ({string.Join(", ", identities.Order())})";
            }
        }

        return null;
    }

    /// <summary>True when each byte of <paramref name="word"/> is zero or equals that byte of <paramref name="identity"/>.</summary>
    private static bool Masked(uint word, uint identity)
    {
        for (int k = 0; k < 32; k += 8)
        {
            uint b = (word >> k) & 0xFF;
            if (b != 0 && b != ((identity >> k) & 0xFF))
            {
                return false;
            }
        }

        return true;
    }

    private string? Verify(string imagePath, CrashState state)
    {
        using var opened = TestImage.OpenPath(imagePath);
        var v = opened.Volume;
        foreach (string line in TreeSnapshot.Take(v))
        {
            int arrow = line.IndexOf(EntryMarker, StringComparison.Ordinal);
            if (arrow < 0)
            {
                continue;
            }

            string path = line[..arrow];
            if (!recording.Model.MayExist(path, state.Limit))
            {
                return $"unexpected path: {path} was never created before event {state.Limit}";
            }

            if (recording.Model.PatternedIdentities(path) is { } identities && StaleData(v, path, identities) is { } stale)
            {
                return stale;
            }
        }

        foreach (var file in recording.Model.DurableFiles)
        {
            if (file.Required(state.Prefix) < 0)
            {
                continue;
            }

            uint ino = PathWalk.Resolve(v, file.Path);
            if (ino == 0)
            {
                return $"lost fsynced data: {file.Path} is missing";
            }

            if (file.Check(PathWalk.ReadAll(v, v.ReadInode(ino)), state.Prefix, state.Limit, recording.BlockSize) is { } wrong)
            {
                return "lost fsynced data: " + wrong;
            }
        }

        return null;
    }
}
