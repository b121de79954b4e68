// Command ldapplugin serves the LDAP realm as a stand-alone plugin
// executable, for the end-to-end test: realmd finds it in its
// plugin_directory under the type name "ldap" until the realm is built into
// realmd (a built-in wins over the plugin directory).
package main

import (
	"github.com/realmd/realmd/plugins/ldap"
	"github.com/realmd/realmd/sdk"
)

func main() {
	sdk.Serve(ldap.Plugin())
}
