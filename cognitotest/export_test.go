package cognitotest

// OnHold makes s call hook when a Failure's Hang or Delay starts holding a
// request, so that tests know the request reached the handler.
func (s *Server) OnHold(hook func(Endpoint)) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.onHold = hook
}
