module github.com/cognitokit/cognito

go 1.25
