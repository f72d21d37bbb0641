using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>Unknown mount options through mount(8) (scripts/unknown-options.sh): refused with a
/// clear reason and exit 32, or with `mount -s` dropped with a warning.</summary>
[TestFixture]
[NonParallelizable]
public sealed class UnknownOptionTests
{
    [Test]
    public void RefusedUnlessSloppy()
    {
        TestEnvironment.RequireMountEnvironment();
        string work = Directory.CreateTempSubdirectory("safemount-opts-").FullName;
        try
        {
            string image = TestImages.Build(work, new ImageLayout("opts", [], "64M", 100, false, 34));
            CommandResult r;
            string log;
            using (var activator = new SocketActivator(work))
            {
                r = Command.Run("unshare",
                    ["-m", "--propagation", "private", Path.Combine(TestEnvironment.ScriptsDir, "unknown-options.sh"),
                     image, Path.Combine(work, "mnt"), Mounts.HelperDir(work)],
                    TimeSpan.FromMinutes(2), activator.HelperEnvironment);
                activator.AssertServicesExit(TimeSpan.FromSeconds(15));
                log = activator.Log;
            }

            string context = $"{r}\nservice log:\n{log}";
            Assert.That(r.StdOut, Is.EqualTo("strict-exit=32\nstrict-mounted=0\nsloppy-exit=0\nsloppy-mounted=1\numount-exit=0\n"), context);
            string[] parts = r.StdErr.Split("--- sloppy\n");
            Assert.That(parts, Has.Length.EqualTo(2), context);
            Assert.That(parts[0], Is.EqualTo($"mount.safe.ext4: {image}: unknown mount option 'bogus=1'\n"), context);
            Assert.That(parts[1], Is.EqualTo($"mount.safe.ext4: {image}: warning: ignoring unknown mount option 'bogus=1' (sloppy mount)\n"), context);
            TestImages.AssertClean(image);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
