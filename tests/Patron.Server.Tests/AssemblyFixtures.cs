// One PostgreSQL cluster for the whole run; each test class gets its own database in it.
[assembly: AssemblyFixture(typeof(Patron.Server.Tests.Infrastructure.PostgresServer))]
