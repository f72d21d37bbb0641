namespace Safemount.EndToEnd.Tests;

/// <summary>Runs mount scenarios inside a private mount namespace, so every mount (and with it
/// every loop device and FUSE connection) disappears with the namespace even when a test fails.</summary>
internal static class Mounts
{
    /// <summary>A directory holding only mount.safe.ext4, overlaid on /usr/sbin inside the
    /// namespace so that `mount -t safe.ext4` finds the helper under test.</summary>
    public static string HelperDir(string work)
    {
        string dir = Path.Combine(work, "sbin");
        Directory.CreateDirectory(dir);
        File.Copy(TestEnvironment.HelperPath, Path.Combine(dir, "mount.safe.ext4"), overwrite: true);
        return dir;
    }

    /// <summary>compare-mounts.sh; <paramref name="probe"/> (a command and its arguments after the
    /// mount directory) runs on each fresh mount before the dumps.</summary>
    public static CommandResult CompareInNamespace(string image, string output, string work, string options, SocketActivator activator, params string[] probe) =>
        Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "compare-mounts.sh"), image, output, HelperDir(work), options, .. probe],
            TimeSpan.FromMinutes(5), activator.HelperEnvironment);

    /// <summary>compare-mounts.sh with TREEDUMP=0: the probe (and statfs) is the whole comparison.</summary>
    public static CommandResult ProbeBothInNamespace(string image, string output, string work, SocketActivator activator, params string[] probe)
    {
        var env = activator.HelperEnvironment;
        env["TREEDUMP"] = "0";
        return Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "compare-mounts.sh"), image, output, HelperDir(work), "ro", .. probe],
            TimeSpan.FromMinutes(5), env);
    }

    /// <summary>mount-probe.sh: mounts only safe.ext4 (ro) and runs <paramref name="probe"/> on it.</summary>
    public static CommandResult ProbeSafeOnly(string image, string work, SocketActivator activator, params string[] probe) =>
        Command.Run("unshare",
            ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "mount-probe.sh"), image, Path.Combine(work, "mnt-probe"), HelperDir(work), .. probe],
            TimeSpan.FromMinutes(2), activator.HelperEnvironment);

    /// <summary>Runs `mount -t safe.ext4 [-o OPTIONS] SOURCE DIR` in a namespace and unmounts if it
    /// succeeded; prints "exit=N" last.</summary>
    public static CommandResult TryMount(string source, string work, string options, SocketActivator activator)
    {
        string dir = Path.Combine(work, "mnt-try");
        Directory.CreateDirectory(dir);
        string script =
            "mount -t overlay overlay -o lowerdir=\"$1\":/usr/sbin /usr/sbin; " +
            "mount -t safe.ext4 -o \"$4\" \"$2\" \"$3\"; rc=$?; " +
            "if [ $rc = 0 ]; then umount \"$3\"; fi; echo exit=$rc";
        return Command.Run("unshare",
            ["-m", "--propagation", "private", "/bin/bash", "-c", script, "try", HelperDir(work), source, dir, options],
            TimeSpan.FromSeconds(60), activator.HelperEnvironment);
    }
}
