using NUnit.Framework;
using Safemount.Ext4Service.Sandbox;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Sandbox;

/// <summary>
/// The Landlock ruleset per ABI version (Documentation/userspace-api/landlock.rst, "Backward
/// compatibility"): every right the ABI knows is handled, the size passed matches the fields
/// that ABI reads, and signal scoping waits for erratum 2.
/// </summary>
[TestFixture]
public sealed class LandlockRestrictionTests
{
    private const ulong AllErrata = 0b111;

    [TestCase(1, 0x1FFFUL, 8, TestName = "ABI 1: EXECUTE..MAKE_SYM")]
    [TestCase(2, 0x3FFFUL, 8, TestName = "ABI 2: + REFER")]
    [TestCase(3, 0x7FFFUL, 8, TestName = "ABI 3: + TRUNCATE")]
    [TestCase(4, 0x7FFFUL, 16, TestName = "ABI 4: + TCP bind/connect")]
    [TestCase(5, 0xFFFFUL, 16, TestName = "ABI 5: + IOCTL_DEV")]
    [TestCase(6, 0xFFFFUL, 24, TestName = "ABI 6: + scopes")]
    [TestCase(7, 0xFFFFUL, 24, TestName = "ABI 7: no new rights")]
    public void EveryRightOfTheAbiIsHandled(int abi, ulong fs, int size)
    {
        landlock_ruleset_attr attr = LandlockRestriction.AttrFor(abi, AllErrata, out int actualSize);
        Assert.Multiple(() =>
        {
            Assert.That(attr.handled_access_fs, Is.EqualTo(fs));
            Assert.That(actualSize, Is.EqualTo(size));
            Assert.That(attr.handled_access_net, Is.EqualTo(abi >= 4 ? 3UL : 0UL));
            Assert.That(attr.scoped, Is.EqualTo(abi >= 6 ? 3UL : 0UL));
        });
    }

    [Test]
    public void SignalScopingNeedsErratumTwo()
    {
        Assert.That(LandlockRestriction.AttrFor(6, 0b101, out _).scoped, Is.EqualTo(LandlockInterop.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET));
        Assert.That(LandlockRestriction.AttrFor(6, 0b010, out _).scoped,
            Is.EqualTo(LandlockInterop.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LandlockInterop.LANDLOCK_SCOPE_SIGNAL));
    }
}
