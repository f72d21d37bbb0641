using System.Reflection;
using Safemount.Shared.CommandLine;

namespace Safemount.Shared.Tests.CommandLine;

[TestFixture]
public sealed class ProductVersionTests
{
    [Test]
    public void LineCarriesTheInformationalVersionWithoutCommitSuffix()
    {
        string informational = typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        string number = informational.Split('+')[0];
        Assert.That(number, Does.Match(@"^\d+\.\d+\.\d+"));
        Assert.That(ProductVersion.Number, Is.EqualTo(number));
        Assert.That(ProductVersion.Line("mount.safe.ext4"), Is.EqualTo($"mount.safe.ext4 (safemount) {number}, protocol 1"));
    }
}
