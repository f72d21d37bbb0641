using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// The boot-time path (scripts/fstab-mount-all.sh): `mount -a` over a private /etc/fstab with a
/// safe.ext4 line (nofail, x-systemd.automount, a quoted comment= value) and a nofail line whose
/// image does not exist; a second `mount -a` leaves the mounted line alone; `umount -a -t
/// fuseblk.safe.ext4` unmounts it and the service ends.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class FstabMountAllTests
{
    [Test]
    public void MountAllHonoursNofailAndIsIdempotent()
    {
        TestEnvironment.RequireMountEnvironment();
        string work = Directory.CreateTempSubdirectory("safemount-fstab-").FullName;
        try
        {
            string image = TestImages.Build(work, new ImageLayout("fstab-all", [], "64M", 100, false, 33));
            CommandResult r;
            string log;
            using (var activator = new SocketActivator(work))
            {
                r = Command.Run("unshare",
                    ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "fstab-mount-all.sh"),
                     image, work, Mounts.HelperDir(work), "files/size-65536"],
                    TimeSpan.FromMinutes(2), activator.HelperEnvironment);
                activator.AssertServicesExit(TimeSpan.FromSeconds(15));
                log = activator.Log;
            }

            string context = $"{r}\nservice log:\n{log}";
            Assert.That(r.ExitCode, Is.Zero, context);
            Assert.That(r.StdOut, Is.EqualTo(
                "mount-all-exit=0\nmounted-a=1\nmounted-missing=0\nread=65536\n" +
                "mount-all-again-exit=0\nmounted-a-again=1\numount-all-exit=0\nmounted-a-after=0\n"), context);
            Assert.That(r.StdErr, Is.Empty, context);
            TestImages.AssertClean(image);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
