using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>The kernel's ext4 as oracle for the write tests: a read-only loop mount in a private mount namespace.</summary>
internal static class DirsKernel
{
    public static bool IsRoot => Tool.Check("id", "-u").Trim() == "0";

    /// <summary>
    /// Mounts <paramref name="image"/> read-only at a scratch directory, runs
    /// <paramref name="script"/> (sh, with $M the mount point) and unmounts, all inside
    /// <c>unshare -m</c> so nothing outlives the call. Returns stdout; fails the test on a non-zero exit.
    /// </summary>
    public static string ReadOnly(string image, string mountPoint, string script)
    {
        Directory.CreateDirectory(mountPoint);
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o ro,loop '{image}' '{mountPoint}' || exit 90; M='{mountPoint}'; ( {script} ); rc=$?; umount '{mountPoint}'; exit $rc"], 600);
        Assert.That(r.ExitCode, Is.EqualTo(0), $"kernel script failed: {r.Stderr}{r.Stdout}");
        return r.Stdout;
    }
}
