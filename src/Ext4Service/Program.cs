namespace Safemount.Ext4Service; internal static class Program { private static int Main(string[] args) => 1; }
