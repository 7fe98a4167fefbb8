package arilink_test

import (
	"os"
	"testing"

	"github.com/supportdesk/ivr/internal/asterisktest"
)

func TestMain(m *testing.M) { os.Exit(asterisktest.Main(m)) }
