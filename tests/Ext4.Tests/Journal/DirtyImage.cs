using System.Security.Cryptography;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// An ext4 image whose journal the kernel left dirty: mkfs, a loop mount (rw, with
/// <see cref="MountOptions"/>) in a private mount namespace, a workload whose commits are
/// forced with fsync (so they stay in the log rather than being checkpointed by a syncfs),
/// then EXT4_IOC_SHUTDOWN with EXT4_GOING_FLAGS_LOGFLUSH (_IOR('X', 125, __u32) = 0x8004587D,
/// flag 1): the running transaction is committed and the journal aborted, so umount writes
/// nothing more and the image keeps needs_recovery and committed, unreplayed transactions.
///
/// Workload: <c>rounds</c> small fsync'ed transactions (enough of them wrap a 1024-block log),
/// a 300-entry directory committed and then removed (its freed directory blocks are revoked),
/// files created, deleted and replaced, a symlink, an xattr, a hard link.
/// </summary>
internal sealed class DirtyImage : IDisposable
{
    private readonly TempDir _dir = new();

    private DirtyImage(string mountOptions)
    {
        MountOptions = mountOptions;
        ImagePath = _dir["dirty.img"];
    }

    public string ImagePath { get; }

    public string MountOptions { get; }

    public string Scratch(string name) => _dir[name];

    /// <summary>Skips the test unless running as root (loop mounts).</summary>
    public static void RequireRoot()
    {
        if (Tool.Check("id", "-u").Trim() != "0")
        {
            Assert.Ignore("needs root to let the kernel write a dirty journal");
        }
    }

    public static DirtyImage Make(string size, string mkfsOptions, string mountOptions, int rounds)
    {
        var image = new DirtyImage(mountOptions);
        try
        {
            Tool.Check("truncate", "-s", size, image.ImagePath);
            Tool.Check("mkfs.ext4", ["-q", "-F", .. mkfsOptions.Split(' ', StringSplitOptions.RemoveEmptyEntries), image.ImagePath]);
            string mnt = image.Scratch("kmnt");
            Directory.CreateDirectory(mnt);
            string opts = mountOptions.Length == 0 ? "loop" : $"loop,{mountOptions}";
            string script = $$"""
                set -e
                m='{{mnt}}'
                mount -o {{opts}} '{{image.ImagePath}}' "$m"
                trap 'umount "$m" 2>/dev/null || true' EXIT
                i=1; while [ $i -le {{rounds}} ]; do echo "round $i" > "$m/r$i"; mkdir "$m/dr$i"; sync "$m/r$i"; i=$((i+1)); done
                mkdir "$m/big"; i=1; while [ $i -le 300 ]; do echo $i > "$m/big/entry-with-a-rather-long-name-$i"; i=$((i+1)); done
                sync "$m"
                i=1; while [ $i -le 40 ]; do head -c $((i*3000)) /dev/urandom > "$m/f$i"; i=$((i+1)); done
                sync "$m"
                rm -r "$m/big"
                sync "$m"
                mkdir "$m/d"; i=1; while [ $i -le 20 ]; do rm "$m/f$i"; echo "x$i" > "$m/d/n$i"; i=$((i+1)); done
                ln -s ../f30 "$m/d/link"; ln "$m/f31" "$m/d/hard"; setfattr -n user.k -v journal "$m/f32"
                sync "$m"
                i=1; while [ $i -le 20 ]; do head -c 5000 /dev/urandom > "$m/g$i"; i=$((i+1)); done
                python3 -c 'import fcntl, os, struct, sys; fd = os.open(sys.argv[1], os.O_RDONLY); fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 1))' "$m/g1"
                umount "$m"
                trap - EXIT
                """;
            var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c", script], 120);
            if (r.ExitCode != 0)
            {
                throw new InvalidOperationException($"workload failed ({r.ExitCode}): {r.Stderr}{r.Stdout}");
            }

            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>Copies the dirty image to <paramref name="name"/> in the scratch dir.</summary>
    public string Copy(string name)
    {
        string path = Scratch(name);
        File.Copy(ImagePath, path, overwrite: true);
        return path;
    }

    /// <summary>debugfs logdump of the image (read-only).</summary>
    public string LogDump() => Tool.Debugfs(ImagePath, "logdump");

    public static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(f));
    }

    /// <summary>Lets the kernel recover a copy (rw mount and umount in a private namespace).</summary>
    public string KernelRecoveredCopy()
    {
        string path = Copy("kernel.img");
        string mnt = Scratch("krec");
        Directory.CreateDirectory(mnt);
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o loop '{path}' '{mnt}' && umount '{mnt}'"], 120);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"kernel recovery failed: {r.Stderr}");
        }

        return path;
    }

    public void Dispose() => _dir.Dispose();
}
